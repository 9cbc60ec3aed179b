"""The ``humanseg`` command line: serve the API and manage models."""

from __future__ import annotations

import os
import socket
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
        kinds: dict[Any, Any] = {int: click.INT, float: click.FLOAT, bool: click.BOOL}
        kind = kinds.get(annotation)
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
@click.option(
    "--ray",
    "on_ray",
    is_flag=True,
    help="Deploy on Ray Serve (extra [ray]): cluster HUMANSEG_RAY_ADDRESS, replicas and "
    "autoscaling from the HUMANSEG_RAY_* settings.",
)
def serve(on_ray: bool, **overrides: Any) -> None:
    """Run the HTTP API (docs at /docs). The default model's files are pulled first."""
    import uvicorn

    from humanseg.api.auth import load_api_keys
    from humanseg.api.browser import LOOPBACK_NAMES
    from humanseg.logs import log_config
    from humanseg.models.availability import side_by_side_warning
    from humanseg.models.catalog import FACE_DETECTION
    from humanseg.models.presets import ensure_models, model_availability
    from humanseg.models.store import ModelStore

    if overrides.get("pull_on_request") is None:
        # a server pulls what its operator configured, at start-up; never for a caller
        os.environ.setdefault("HUMANSEG_PULL_ON_REQUEST", "false")
    settings = _apply_overrides(**overrides)
    if not settings.allowed_hosts and _is_loopback(settings.host):
        # a web page must not drive a local server through DNS rebinding
        settings = _apply_overrides(allowed_hosts=",".join(LOOPBACK_NAMES))
    try:
        load_api_keys(settings)  # fail here, in one line, rather than in every worker
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if settings.workers > 1:
        _share_metrics_between_workers()
    store = ModelStore.from_settings(settings, progress=True)
    try:  # pull here, with a progress bar, rather than silently in each worker
        ensure_models(store, settings.model, settings.onnx_engine)
    except HumansegError as exc:
        _fail(exc)
    for name in dict.fromkeys(settings.models):
        try:
            state = model_availability(name, store, settings.onnx_engine)
            if state.available:
                ensure_models(store, name, settings.onnx_engine)
        except HumansegError as exc:
            _fail(exc)
        if not state.available:  # served, but listed as unavailable, with what it needs
            click.echo(f"warning: {name!r} cannot run on this machine: {state.reason}.", err=True)
    side_by_side = side_by_side_warning()
    if side_by_side:
        click.echo(f"warning: {side_by_side}.", err=True)
    try:  # `id_photo` needs it; from the same package as the default pipeline's models
        store.ensure(FACE_DETECTION)
    except HumansegError as exc:
        click.echo(f"warning: id_photo will not work: {exc.message}", err=True)
    if on_ray:
        start = _ray_module("humanseg.scale.ray_serve").start

        click.echo(
            f"humanseg {__version__}: deploying on Ray Serve, HTTP on "
            f"http://{settings.host}:{settings.port}",
            err=True,
        )
        start(settings.model_dump(exclude_unset=True))
        return
    config = uvicorn.Config(
        "humanseg.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        log_config=log_config(settings.log_level, settings.log_format),
        access_log=False,  # humanseg logs each request itself, with its id and error code
        timeout_graceful_shutdown=30,
        # httptools with humanseg's head, rate and deadline limits (see humanseg.api.wire)
        http="humanseg.api.wire:GuardedHttpToolsProtocol",
        timeout_keep_alive=settings.keepalive_timeout,
    )
    sock = _listen(settings.host, settings.port)  # "serving on" only once the port is ours
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"humanseg {__version__}: serving on http://{shown}:{port} "
        f"(docs at /docs, model {settings.model!r}, {settings.workers} worker(s))",
        err=True,
    )
    server = uvicorn.Server(config)
    try:
        if settings.workers > 1:
            import inspect

            from uvicorn.supervisors import Multiprocess

            # older uvicorn releases take the worker's target; newer ones make it themselves
            takes_target = "target" in inspect.signature(Multiprocess).parameters
            extra: dict[str, Any] = {"target": server.run} if takes_target else {}
            Multiprocess(config, sockets=[sock], **extra).run()
        else:
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if settings.workers == 1 and not server.started:
        sys.exit(3)  # uvicorn's exit status for a failed start-up


def _listen(host: str, port: int) -> socket.socket:
    """Bind the server's socket here, so a port in use is one clear line, before any banner."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}.") from None
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _share_metrics_between_workers() -> None:
    """Worker processes write their metrics to a private folder that /metrics adds up."""
    import atexit
    import shutil
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = tempfile.mkdtemp(prefix="humanseg-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)


def _ray_module(name: str) -> Any:
    """A module of ours that needs Ray, or one clear sentence if the extra is missing."""
    import importlib

    try:
        importlib.import_module("ray")
    except ImportError:
        raise click.ClickException(
            "--ray needs the [ray] extra: pip install 'humanseg[ray]'."
        ) from None
    return importlib.import_module(name)


@main.command()
@click.argument("source")
@click.argument("destination")
@click.option(
    "--type",
    "output_type",
    type=click.Choice(["alpha", "foreground"]),
    default="alpha",
    show_default=True,
    help="alpha: the grayscale matte; foreground: RGBA cut-out.",
)
@click.option("--model", default=None, help="Model name [env: HUMANSEG_MODEL].")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes, or Ray actors with --ray [default: one per CPU, or per "
    "HUMANSEG_RAY_NUM_CPUS (_GPUS) of the Ray cluster].",
)
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[ADDRESS]",
    help="Run on Ray (extra [ray]): ADDRESS, else HUMANSEG_RAY_ADDRESS, $RAY_ADDRESS or a "
    "local instance.",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False),
    default=None,
    help="Manifest file [default: DESTINATION/.humanseg-batch.jsonl, or ./ for s3://].",
)
@click.option("--overwrite", is_flag=True, help="Process keys the manifest says are done, too.")
@_model_dir_option
def batch(
    source: str,
    destination: str,
    output_type: str,
    model: str | None,
    workers: int | None,
    ray_address: str | None,
    manifest: str | None,
    overwrite: bool,
    model_dir: str | None,
) -> None:
    """Segment every image in SOURCE into DESTINATION (folders or s3://bucket/prefix).

    Outputs are PNGs at the same relative paths. Resumable: a re-run skips what is done.
    """
    from functools import partial
    from pathlib import Path

    from humanseg.pipeline import parse_output_type
    from humanseg.scale.batch import run_batch
    from humanseg.scale.job import BatchJob
    from humanseg.scale.local_batch import default_workers, run_local

    settings = _apply_overrides(model=model, model_dir=model_dir)
    job = BatchJob(
        source,
        destination,
        output=parse_output_type(output_type),
        settings=settings.model_dump(exclude_unset=True),
    )
    try:
        if ray_address is None:
            from humanseg.models.presets import ensure_models
            from humanseg.models.store import ModelStore

            ensure_models(
                ModelStore.from_settings(settings, progress=True),
                settings.model,
                settings.onnx_engine,
            )
            pool_size = workers or default_workers()
            runner = partial(run_local, workers=pool_size)
        else:
            ray_batch = _ray_module("humanseg.scale.ray_batch")
            ray_batch.init_ray(ray_address or settings.ray_address)
            runner = partial(
                ray_batch.run_ray, workers=workers or ray_batch.default_actors(settings)
            )
        summary = run_batch(
            job, runner, manifest_path=Path(manifest) if manifest else None, overwrite=overwrite
        )
    except HumansegError as exc:
        _fail(exc)
    for entry in summary.failures:
        click.echo(f"failed: {entry.key!r}: [{entry.code}] {entry.message}", err=True)
    if summary.failed > len(summary.failures):
        click.echo(f"... and {summary.failed - len(summary.failures)} more failures", err=True)
    if summary.doubtful:
        from humanseg.models.fusion import REVIEW_BELOW

        more = summary.doubtful - len(summary.doubtful_keys)
        click.echo(
            f"{summary.doubtful} results with a confidence under {REVIEW_BELOW} (worth a look; "
            f"the manifest has each one's): {', '.join(summary.doubtful_keys)}"
            + (f" and {more} more" if more > 0 else ""),
            err=True,
        )
    click.echo(
        f"{summary.done} done, {summary.failed} failed, {summary.skipped} already done "
        f"(of {summary.listed} images); manifest: {summary.manifest}",
        err=True,
    )
    sys.exit(1 if summary.failed else 0)


@main.group()
def models() -> None:
    """List and pull models."""


@models.command("list")
@_model_dir_option
def models_list(model_dir: str | None) -> None:
    """Show every model in the catalog, whether its file is pulled and whether it can run
    here (and what it needs if not)."""
    from humanseg.models.availability import side_by_side_warning
    from humanseg.models.catalog import CATALOG
    from humanseg.models.presets import PRESETS, model_availability
    from humanseg.models.store import ModelStore

    settings = _apply_overrides(model_dir=model_dir)
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
@_model_dir_option
def models_pull(names: tuple[str, ...], force: bool, model_dir: str | None) -> None:
    """Pull models (or every model a pipeline needs) into the cache and verify them.

    Exits non-zero when a model could not be pulled, or when what was pulled cannot run on
    this machine (its runtime is missing): the files stay, e.g. to copy to another machine."""
    from humanseg.models.catalog import get_spec
    from humanseg.models.presets import PRESETS, model_availability, model_specs
    from humanseg.models.store import ModelStore

    settings = _apply_overrides(model_dir=model_dir)
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
                f"error [model_unavailable]: {name!r} was pulled but cannot run on this "
                f"machine: {state.reason}.",
                err=True,
            )
            failed = True
    sys.exit(1 if failed else 0)


from humanseg.cut import cut  # noqa: E402  (cut uses this module's helpers)
from humanseg.video.command import video  # noqa: E402

main.add_command(cut)
main.add_command(video)


@main.command("eval")
@click.argument(
    "directories", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False)
)
@click.option(
    "--model",
    "names",
    multiple=True,
    help="Model or pipeline to score (repeatable; default: the pipelines and every model "
    "that is pulled).",
)
@click.option(
    "--folds",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="k-fold selection for pipelines: choose their numbers on k-1 folds of every folder, "
    "score the held-out fold, rotate. 0: score the numbers they ship with.",
)
@click.option(
    "--reference/--no-reference",
    default=True,
    show_default=True,
    help="Also score rembg's default model (U²-Net) run exactly as rembg runs it.",
)
@click.option(
    "--person-free/--no-person-free",
    default=True,
    show_default=True,
    help="Also count how many of scikit-image's person-free images each one leaves empty "
    "(needs scikit-image).",
)
@click.option(
    "--worst",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="List each one's worst photos.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--inference-threads", type=click.INT, default=None, help="Threads per inference.")
@_model_dir_option
def evaluate(
    directories: tuple[str, ...],
    names: tuple[str, ...],
    folds: int,
    reference: bool,
    person_free: bool,
    worst: int,
    as_json: bool,
    inference_threads: int | None,
    model_dir: str | None,
) -> None:
    """Score models on each DIRECTORY's images/* against its masks/*.png.

    For each folder, and their mean: mean IoU at 0.5, mean absolute difference, boundary
    F-score, photos left empty and mostly lost (IoU < 0.5), how well the result's confidence
    ranks the bad results (AUROC for IoU < 0.85) and median milliseconds per photo in the
    model. With --folds, pipelines are scored k-fold (held out).
    """
    import json
    from pathlib import Path

    from tqdm import tqdm

    from humanseg import evaluation
    from humanseg.models.catalog import CATALOG
    from humanseg.models.matter import PresetMatter
    from humanseg.models.presets import PRESETS, segmentation_models
    from humanseg.models.store import ModelStore
    from humanseg.pipeline import Pipeline

    settings = _apply_overrides(model_dir=model_dir, inference_threads=inference_threads)
    if not names:
        store = ModelStore.from_settings(settings)
        pulled = [n for n in segmentation_models() if store.is_pulled(CATALOG[n])]
        names = (*PRESETS, *pulled)
    if reference and evaluation.REFERENCE not in names:
        names = (*names, evaluation.REFERENCE)
    pipeline = Pipeline(settings)
    rows: list[evaluation.Score] = []
    notes: list[str] = []
    report: list[dict[str, object]] = []
    try:
        pairs = [
            pair for directory in directories for pair in evaluation.find_pairs(Path(directory))
        ]
        for name in names:
            if name == evaluation.REFERENCE:
                pipeline.load("u2net")
                matter: Any = evaluation.RembgReference(pipeline)
            else:
                pipeline.load(name)
                matter = pipeline.resolver.get(name)
            held_out = bool(folds) and isinstance(matter, PresetMatter)
            with tqdm(total=len(pairs), desc=name, file=sys.stderr, leave=False) as bar:
                if held_out:
                    collected = evaluation.collect(pipeline, matter, pairs, on_image=bar.update)
                    scores, chosen = evaluation.k_fold(matter, collected, folds)
                    notes.append(
                        f"{name}: numbers chosen per fold: "
                        + "; ".join(
                            f"weights {p.weights}, threshold {p.threshold}, sharpen {p.sharpen}"
                            for p in chosen
                        )
                    )
                else:
                    scores = evaluation.run_matter(pipeline, matter, pairs, on_image=bar.update)
            summary = evaluation.summarise(name, scores, held_out=held_out)
            rows.extend(summary)
            entry: dict[str, object] = {"model": name, "sets": [r.to_dict() for r in summary]}
            if person_free:
                empty, total, found = evaluation.person_free_rate(matter)
                notes.append(
                    f"{name}: {empty}/{total} person-free images left empty"
                    + (f" (a person in: {', '.join(found)})" if found else "")
                )
                entry["person_free"] = {"empty": empty, "total": total, "person_in": found}
            if worst:
                notes.append(evaluation.format_worst(name, scores, worst))
            entry["photos"] = [vars(s) for s in scores]
            report.append(entry)
    except HumansegError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(evaluation.format_table(rows))
        for note in notes:
            click.echo(note)


if __name__ == "__main__":  # pragma: no cover
    main()
