"""The ``humanseg`` command line: serve the API and manage models."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click
from pydantic import ValidationError

from humanseg import __version__
from humanseg.errors import HumansegError
from humanseg.settings import Settings


def _apply_overrides(**overrides: Any) -> Settings:
    """CLI flags win over HUMANSEG_* variables; exported so worker processes see them too."""
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"HUMANSEG_{name.upper()}"] = str(value)
    from humanseg.settings import get_settings

    get_settings.cache_clear()
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"HUMANSEG_{'.'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise click.ClickException(f"invalid setting: {problems}") from None


def _fail(exc: HumansegError) -> None:
    click.echo(f"error [{exc.code}]: {exc.message}", err=True)
    sys.exit(1)


def _model_dir_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--model-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Model cache folder [env: HUMANSEG_MODEL_DIR].",
    )(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="humanseg")
def main() -> None:
    """Human image segmentation: alpha mattes and transparent cut-outs."""


def settings_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """A ``--flag`` for every setting, so the CLI and HUMANSEG_* cover the same settings."""
    for name, field in reversed(Settings.model_fields.items()):
        annotation = field.annotation
        kind: Any = click.INT if annotation is int else click.FLOAT if annotation is float else None
        function = click.option(
            f"--{name.replace('_', '-')}",
            name,
            type=kind,
            default=None,
            help=f"{field.description} [env: HUMANSEG_{name.upper()}]",
        )(function)
    return function


@main.command()
@settings_options
def serve(**overrides: Any) -> None:
    """Run the HTTP API (docs at /docs). The default model is pulled on first use."""
    import uvicorn

    from humanseg.api.auth import load_api_keys
    from humanseg.logs import log_config
    from humanseg.models.catalog import get_spec
    from humanseg.models.store import ModelStore

    settings = _apply_overrides(**overrides)
    try:
        load_api_keys(settings)  # fail here, in one line, rather than in every worker
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if settings.workers > 1:
        _share_metrics_between_workers()
    try:  # pull here, with a progress bar, rather than silently in each worker
        ModelStore(settings.model_dir, progress=True).ensure(get_spec(settings.model))
    except HumansegError as exc:
        _fail(exc)
    click.echo(
        f"humanseg {__version__}: serving on http://{settings.host}:{settings.port} "
        f"(docs at /docs, model {settings.model!r}, {settings.workers} worker(s))",
        err=True,
    )
    uvicorn.run(
        "humanseg.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        log_config=log_config(settings.log_level, settings.log_format),
        access_log=False,  # humanseg logs each request itself, with its id and error code
        timeout_graceful_shutdown=30,
    )


def _share_metrics_between_workers() -> None:
    """Worker processes write their metrics to a private folder that /metrics adds up."""
    import atexit
    import shutil
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = tempfile.mkdtemp(prefix="humanseg-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)


@main.group()
def models() -> None:
    """List and pull models."""


@models.command("list")
@_model_dir_option
def models_list(model_dir: str | None) -> None:
    """Show every model in the catalog and whether it is pulled."""
    from humanseg.models.catalog import CATALOG
    from humanseg.models.store import ModelStore

    settings = _apply_overrides(model_dir=model_dir)
    store = ModelStore(settings.model_dir)
    rows = [("NAME", "LICENCE", "KIND", "RUNTIME", "PULLED", "SOURCE")]
    for spec in CATALOG.values():
        pulled = store.is_pulled(spec)
        size = store.path_for(spec).stat().st_size if pulled else 0
        rows.append(
            (
                spec.name + (" (opt-in)" if spec.opt_in else ""),
                spec.license,
                "person" if spec.person_specific else "general",
                spec.runtime,
                f"yes, {size / 1e6:.1f} MB" if pulled else "no",
                spec.sources[0].describe(),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(line.rstrip())
    click.echo(f"\nmodel folder: {store.directory}")


@models.command("pull")
@click.argument("names", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Pull again even if a verified copy is cached.")
@_model_dir_option
def models_pull(names: tuple[str, ...], force: bool, model_dir: str | None) -> None:
    """Pull models into the cache and verify their checksums."""
    from humanseg.models.catalog import get_spec
    from humanseg.models.store import ModelStore

    settings = _apply_overrides(model_dir=model_dir)
    store = ModelStore(settings.model_dir, progress=True)
    failed = False
    for name in names:
        try:
            path = store.pull(get_spec(name), force=force)
            click.echo(f"{name}: {path}")
        except HumansegError as exc:
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
