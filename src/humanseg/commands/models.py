"""``humanseg models list`` and ``humanseg models pull``."""

from __future__ import annotations

import sys

import click

from humanseg.commands.options import model_dir_option, settings_from_flags
from humanseg.errors import ErrorCode, HumansegError


@click.group()
def models() -> None:
    """List and pull models."""


@models.command("list")
@model_dir_option
def models_list(model_dir: str | None) -> None:
    """Show every model in the catalog, whether its file is pulled and whether it can run
    here (and what it needs if not)."""
    from humanseg.models.availability import side_by_side_warning
    from humanseg.models.catalog import CATALOG
    from humanseg.models.presets import PRESETS, model_availability
    from humanseg.models.store import ModelStore

    settings = settings_from_flags(model_dir=model_dir).pipeline
    store = ModelStore.from_settings(settings)
    rows = [("NAME", "LICENCE", "KIND", "RUNTIME", "SIZE", "PULLED", "AVAILABLE", "SOURCE")]
    needs: list[str] = []
    for spec in CATALOG.values():
        pulled = store.is_pulled(spec)
        size = store.path_for(spec).stat().st_size if pulled else spec.size_bytes
        state = model_availability(spec.name, store, settings.onnx_engine)
        if not state.available:
            needs.append(f"  {spec.name}: {state.reason}")
        rows.append(
            (
                spec.name + (" (opt-in)" if spec.opt_in else ""),
                spec.license,
                {"faces": "face detector", "presence": "person detector"}.get(
                    spec.postprocess.kind, "person" if spec.person_specific else "general"
                ),
                spec.runtime,
                f"{size / 1e6:.1f} MB" if size else "?",
                "yes" if pulled else "no",
                "yes" if state.available else "no",
                " | ".join(source.describe() for source in spec.sources),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(line.rstrip())
    click.echo("\npipelines (use as a model name):")
    for preset in PRESETS.values():
        state = model_availability(preset.name, store, settings.onnx_engine)
        click.echo(
            f"  {preset.name}: {preset.description} Models: {', '.join(preset.models)}."
            + ("" if state.available else " Not available here.")
        )
        if not state.available:
            needs.append(f"  {preset.name}: {state.reason}")
    if needs:
        click.echo("\nnot available on this machine, and what they need:")
        for line in needs:
            click.echo(line)
    side_by_side = side_by_side_warning()
    if side_by_side:
        click.echo(f"\nwarning: {side_by_side}.")
    click.echo(f"\nmodel folder: {store.directory}")


@models.command("pull")
@click.argument("names", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Pull again even if a verified copy is cached.")
@model_dir_option
def models_pull(names: tuple[str, ...], force: bool, model_dir: str | None) -> None:
    """Pull models (or every model a pipeline needs) into the cache and verify them.

    Exits non-zero when a model could not be pulled, or when what was pulled cannot run on
    this machine (its runtime is missing): the files stay, e.g. to copy to another machine."""
    from humanseg.models.catalog import get_spec
    from humanseg.models.presets import PRESETS, model_availability, model_specs
    from humanseg.models.store import ModelStore

    settings = settings_from_flags(model_dir=model_dir).pipeline
    store = ModelStore.from_settings(settings, progress=True)
    failed = False
    for name in names:
        try:
            # a pipeline pulls all its models; a detector (e.g. for ID photos) can be pulled too
            for spec in model_specs(name) if name in PRESETS else [get_spec(name)]:
                path = store.pull(spec, force=force)
                click.echo(f"{spec.name}: {path}")
        except HumansegError as exc:
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            failed = True
            continue
        state = model_availability(name, store, settings.onnx_engine)
        if not state.available:
            click.echo(
                f"error [{ErrorCode.MODEL_UNAVAILABLE}]: {name!r} was pulled but cannot run on "
                f"this machine: {state.reason}.",
                err=True,
            )
            failed = True
    sys.exit(1 if failed else 0)
