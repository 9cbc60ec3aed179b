"""``humanseg cut INPUT... -o OUT``: segment files, folders and globs, locally or on a server."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

import click
from tqdm import tqdm

from humanseg import cut_jobs
from humanseg.errors import HumansegError
from humanseg.fileio import write_atomic
from humanseg.models.fusion import REVIEW_BELOW
from humanseg.pipeline import OutputType, Pipeline, parse_output_type
from humanseg.settings import PipelineSettings

SMALL_BATCH = 32


def _output_type(_ctx: click.Context, _param: click.Parameter, value: str) -> OutputType:
    try:
        return parse_output_type(value)
    except HumansegError as exc:
        raise click.BadParameter(exc.message) from None


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    "out",
    default=None,
    help="Output folder; for a single input, an image file name (.png, .jpg, .webp) also "
    "works. '-' or absent with '-' input: stdout.",
)
@click.option(
    "--type",
    "output_type",
    default="",
    callback=_output_type,
    help="Empty or 'alpha': the alpha matte; 'foreground': a transparent cut-out.",
)
@click.option("--model", default=None, help="Catalog model [default: HUMANSEG_MODEL].")
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Images processed in parallel: processes locally, connections with --server "
    f"[default: the CPU count, or 1 for fewer than {SMALL_BATCH} images].",
)
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")
@click.option("--server", default=None, help="Send images to this humanseg server instead.")
@click.option("--api-key", default=None, help="API key for --server.")
@click.option(
    "--model-dir", type=click.Path(file_okay=False), default=None, help="Model cache folder."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def cut(
    inputs: tuple[str, ...],
    out: str | None,
    output_type: OutputType,
    model: str | None,
    workers: int | None,
    overwrite: bool,
    server: str | None,
    api_key: str | None,
    model_dir: str | None,
    quiet: bool,
) -> None:
    """Cut out the people in images: files, folders (recursive) and globs.

    Writes one PNG per image under OUT, keeping folder trees; existing outputs are skipped
    unless --overwrite. A failing image is reported and the rest go on; the exit code is 1
    if any image failed. 'humanseg cut - < photo.jpg > cutout.png' reads stdin and writes
    stdout.
    """
    if "-" in inputs:
        if len(inputs) > 1:
            raise click.UsageError("'-' (stdin) cannot be combined with other inputs.")
        _cut_stdin(out, output_type, model, server, api_key, model_dir)
        return
    if not out or out == "-":
        raise click.UsageError("Give an output folder with -o/--output.")

    out_path = Path(out)
    plan = cut_jobs.plan(inputs, out_path)
    for problem in plan.problems:
        click.echo(f"error: {problem}", err=True)
    todo = [job for job in plan.jobs if overwrite or not job.target.exists()]
    skipped = len(plan.jobs) - len(todo)
    if not plan.jobs and not plan.problems:
        _fail("no images found in the inputs (JPEG, PNG or BMP files).")
    for job in plan.jobs[:1]:
        try:  # an encoding the output cannot have (a cut-out as JPEG) fails before any work
            cut_jobs.job_output(job, output_type)
        except HumansegError as exc:
            _fail(f"{job.target}: [{exc.code}] {exc.message}")
    if workers is None:  # starting worker processes only pays off for a longer batch
        workers = (os.cpu_count() or 1) if len(todo) >= SMALL_BATCH else 1
    workers = min(workers, max(1, len(todo)))

    started = time.monotonic()
    failed = 0
    doubtful: list[str] = []  # results the pipeline itself rates under REVIEW_BELOW
    with tqdm(
        total=len(plan.jobs), unit="img", desc="cut", file=sys.stderr, disable=quiet
    ) as progress:
        progress.update(skipped)
        for outcome in _run(todo, output_type, model, workers, server, api_key, model_dir):
            if outcome.error:
                failed += 1
                progress.write(f"error: {outcome.job.source}: {outcome.error}", file=sys.stderr)
            elif outcome.confidence is not None and outcome.confidence < REVIEW_BELOW:
                doubtful.append(str(outcome.job.source))
            progress.update(1)
    seconds = time.monotonic() - started
    done = len(todo) - failed
    failed += len(plan.problems)
    # the rate counts images written: a run where everything failed has none
    rate = f", {done / seconds:.1f} img/s" if done and seconds > 0 else ""
    click.echo(
        f"{done} written, {skipped} skipped (already there; --overwrite to redo), "
        f"{failed} failed, in {seconds:.1f} s{rate}",
        err=True,
    )
    if doubtful:
        shown = ", ".join(doubtful[:20]) + (
            f" and {len(doubtful) - 20} more" if len(doubtful) > 20 else ""
        )
        click.echo(
            f"{len(doubtful)} results with a confidence under {REVIEW_BELOW} (worth a look): "
            + shown,
            err=True,
        )
    sys.exit(1 if failed else 0)


def _run(
    jobs: list[cut_jobs.Job],
    output_type: OutputType,
    model: str | None,
    workers: int,
    server: str | None,
    api_key: str | None,
    model_dir: str | None,
) -> Iterable[cut_jobs.Outcome]:
    if not jobs:
        return
    if server:
        from humanseg.client import Client

        with Client(server, api_key) as client, ThreadPoolExecutor(workers) as executor:
            yield from _completed(
                cut_jobs.submit_remote(executor, jobs, client, output_type, model)
            )
        return
    settings = _local_settings(model, model_dir)
    if workers == 1:
        yield from cut_jobs.run_local_inline(
            jobs, cut_jobs.worker_settings(settings, 1), output_type, model
        )
        return
    with cut_jobs.local_executor(settings, workers, output_type, model) as executor:
        yield from _completed(cut_jobs.submit_local(executor, jobs))


def _completed(futures: list[Future[cut_jobs.Outcome]]) -> Iterable[cut_jobs.Outcome]:
    try:
        for future in as_completed(futures):
            yield future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _local_settings(model: str | None, model_dir: str | None) -> PipelineSettings:
    """Pipeline settings from HUMANSEG_*, with the model pulled here (with progress) before
    any worker."""
    from humanseg.cli import _apply_overrides
    from humanseg.models.presets import ensure_models
    from humanseg.models.store import ModelStore

    settings = _apply_overrides(model_dir=model_dir).pipeline
    try:
        ensure_models(
            ModelStore.from_settings(settings, progress=True),
            model or settings.model,
            settings.onnx_engine,
        )
    except HumansegError as exc:
        _fail(f"[{exc.code}] {exc.message}")
    return settings


def _cut_stdin(
    out: str | None,
    output_type: OutputType,
    model: str | None,
    server: str | None,
    api_key: str | None,
    model_dir: str | None,
) -> None:
    data = sys.stdin.buffer.read()
    try:
        if server:
            from humanseg.client import Client

            with Client(server, api_key) as client:
                result = client.segment(data, cut_jobs.wire_type(output_type), model=model)
        else:
            settings = cut_jobs.worker_settings(_local_settings(model, model_dir), 1)
            result = Pipeline(settings).process(data, output_type, model=model).data
    except HumansegError as exc:
        _fail(f"-: [{exc.code}] {exc.message}")
    if out and out != "-":
        try:
            write_atomic(Path(out), result)
        except OSError as exc:
            _fail(f"{out}: {exc.strerror or exc}")
    else:
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
