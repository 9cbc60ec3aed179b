"""``humanseg cut INPUT... -o OUT`` and ``humanseg batch SRC DST``: one jobs engine, two spellings.

Both take the same options and run the same way (``humanseg.jobs``); ``batch`` names its
destination as a second argument, as copy commands do, where ``cut`` takes ``-o``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from humanseg.commands.options import fail, model_dir_option, ray_module, settings_from_flags
from humanseg.commands.output_options import output_options, output_request
from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.fileio import is_video_name
from humanseg.jobs.engine import Runner, Summary, is_done, run_job
from humanseg.jobs.manifest import Entry, Manifest
from humanseg.jobs.naming import FORMAT_BY_SUFFIX
from humanseg.jobs.plan import STDIN, Plan, plan, stdin_plan
from humanseg.jobs.request import OutputRequest
from humanseg.jobs.sinks import OutputFile, default_manifest, open_sink
from humanseg.jobs.video import VideoJob
from humanseg.jobs.worker import Task
from humanseg.models.fusion import REVIEW_BELOW
from humanseg.settings import PipelineSettings

SMALL_BATCH = 32  # fewer images than this: one worker, as starting more costs more than it saves


def job_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``cut`` and ``batch`` share."""
    options = [
        output_options,
        click.option(
            "--video-format",
            type=click.Choice(["webm", "mov", "mp4"]),
            default=None,
            help="Format of the clips' outputs [default: webm for foreground, mp4 (H.264) or "
            "webm for alpha, mask, background and blur].",
        ),
        click.option(
            "--steady/--no-steady",
            default=None,
            help="Steady the clips' edges along the motion [default: HUMANSEG_VIDEO_STEADY].",
        ),
        click.option("--model", default=None, help="Model or pipeline [env: HUMANSEG_MODEL]."),
        click.option(
            "-j",
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Images processed in parallel: worker processes, Ray actors with --ray, "
            "requests with --server [default: one per CPU (Ray: per HUMANSEG_RAY_NUM_CPUS or "
            f"_GPUS of the cluster), or 1 for fewer than {SMALL_BATCH} images].",
        ),
        click.option(
            "--ray",
            "ray_address",
            is_flag=False,
            flag_value="",
            default=None,
            metavar="[ADDRESS]",
            help="Run on Ray Data (extra [ray]): ADDRESS, else HUMANSEG_RAY_ADDRESS, "
            "$RAY_ADDRESS or a local instance.",
        ),
        click.option("--server", default=None, help="Send the images to this humanseg server."),
        click.option("--api-key", default=None, help="API key for --server."),
        click.option(
            "--manifest",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Manifest file [default: OUT/.humanseg-batch.jsonl, or ./ for s3://].",
        ),
        click.option(
            "--overwrite", is_flag=True, help="Process inputs the manifest says are done, too."
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
        model_dir_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    "out",
    default=None,
    help="Output folder or s3://bucket/prefix; for a single input, a file name also works (an "
    "image: .png, .jpg, .webp; a clip: .webm, .mov, .mp4). With '-' (stdin) input: a file "
    "name, or stdout if absent.",
)
@job_options
def cut(inputs: tuple[str, ...], out: str | None, **options: Any) -> None:
    """Cut out the people in images and clips: files, folders (recursive), globs,
    s3://bucket/prefix.

    Writes one image or clip per input under OUT, keeping folder trees; clips (MP4, MOV, WebM,
    MKV, GIF; extra [video]) are one task each. Resumable: a re-run skips what
    the manifest says is done. A failing image is reported and the rest go on; the exit code
    is 1 if any image failed. 'humanseg cut - < photo.jpg > cutout.png' reads stdin and
    writes stdout.
    """
    if STDIN in inputs:
        if len(inputs) > 1:
            raise click.UsageError("'-' (stdin) cannot be combined with other inputs.")
        run_command(inputs, out or STDIN, **options)
        return
    if not out or out == STDIN:
        raise click.UsageError("Give an output folder with -o/--output.")
    run_command(inputs, out, **options)


@click.command()
@click.argument("source")
@click.argument("destination")
@job_options
def batch(source: str, destination: str, **options: Any) -> None:
    """Segment every image and clip in SOURCE into DESTINATION (folders or s3://bucket/prefix).

    The same as 'humanseg cut SOURCE -o DESTINATION': outputs at the same relative paths,
    resumable through the manifest, failures reported and the rest go on.
    """
    run_command((source,), destination, **options)


@dataclass(frozen=True)
class Where:
    """Where the images are processed: here or in worker processes, on Ray, or on a server."""

    workers: int | None = None
    ray_address: str | None = None
    server: str | None = None
    api_key: str | None = None


def run_command(
    inputs: tuple[str, ...],
    out: str,
    *,
    model: str | None,
    workers: int | None,
    ray_address: str | None,
    server: str | None,
    api_key: str | None,
    manifest: Path | None,
    overwrite: bool,
    quiet: bool,
    model_dir: str | None,
    video_format: str | None,
    steady: bool | None,
    **output: Any,
) -> None:
    if server and ray_address is not None:
        raise click.UsageError("--server and --ray cannot be combined.")
    settings = settings_from_flags(model_dir=model_dir)
    from_stdin = inputs == (STDIN,)
    try:
        sink = open_sink(out, single_file=from_stdin or _is_one_file(inputs))
        request = output_request(**output)
        video = VideoJob(format=video_format or "", steady=steady)
        if isinstance(sink, OutputFile):
            if is_video_name(inputs[0]):
                video = replace(video, format=_video_format_from_name(video, sink.path))
            else:
                request = _format_from_name(request, sink.path)
        fmt = request.spec().format  # a bad option fails here, before any work
        video_suffix = cache(partial(video.suffix, request, settings.video))
        job = (
            stdin_plan(sys.stdin.buffer.read(), fmt)
            if from_stdin
            else plan(inputs, sink, settings.sources, fmt, video_suffix)
        )
    except HumansegError as exc:
        fail(exc)
    if not job.items and not job.failed:
        fail(
            error(
                ErrorCode.INVALID_REQUEST,
                "No images or clips in the inputs (JPEG, PNG, BMP; MP4, MOV, WebM, MKV, GIF).",
            )
        )
    task = Task(settings, request, sink, model, video)
    where = Where(workers, ray_address, server, api_key)
    if from_stdin:  # one image, here or on the server; no progress, no summary
        summary = _run(job, task, None, Where(1, None, server, api_key), True, quiet=True)
        sys.exit(1 if summary.failed else 0)
    manifest_path = None if isinstance(sink, OutputFile) else manifest or default_manifest(sink)
    with Manifest(manifest_path) if manifest_path else nullcontext() as opened:
        summary = _run(job, task, opened, where, overwrite, quiet=quiet)
    report(summary)
    sys.exit(1 if summary.failed else 0)


def _run(
    job: Plan, task: Task, manifest: Manifest | None, where: Where, overwrite: bool, *, quiet: bool
) -> Summary:
    sink = task.sink
    pending = [item for item in job.items if overwrite or not is_done(item, sink, manifest)]
    try:
        return run_job(
            job,
            sink,
            _runner(task, len(pending), where),
            manifest=manifest,
            overwrite=overwrite,
            progress=not quiet,
            on_failure=tell_failure,
        )
    except HumansegError as exc:
        fail(exc)


def _runner(task: Task, pending: int, where: Where) -> Runner:
    from humanseg.jobs.cores import machine_cpus, worker_settings

    default = machine_cpus() if pending >= SMALL_BATCH else 1
    if where.server:
        from humanseg.jobs.remote import run_remote

        return partial(
            run_remote,
            task,
            server=where.server,
            api_key=where.api_key,
            workers=where.workers or default,
        )
    if where.ray_address is not None:
        ray_data = ray_module("humanseg.jobs.ray_data")
        ray_data.init_ray(where.ray_address or task.settings.ray.ray_address)
        count = where.workers or ray_data.default_actors(task.settings.ray)
        return partial(ray_data.run_ray, task, workers=count)
    pull_models(task.settings.pipeline, task.model)
    count = min(where.workers or default, max(1, pending))
    shared = replace(task, settings=worker_settings(task.settings, processes=count))
    if count == 1:
        from humanseg.jobs.worker import run_in_process

        return partial(run_in_process, shared)
    from humanseg.jobs.pool import run_pool

    return partial(run_pool, shared, workers=count)


def pull_models(settings: PipelineSettings, model: str | None) -> None:
    """Pull here, with a progress bar, before any worker starts; an unknown model fails here."""
    from humanseg.models.presets import ensure_models
    from humanseg.models.store import ModelStore

    ensure_models(
        ModelStore.from_settings(settings, progress=True),
        model or settings.model,
        settings.onnx_engine,
    )


def report(summary: Summary) -> None:
    """The end of a run, on stderr: the doubtful results, then one summary line."""
    if summary.doubtful:
        more = summary.doubtful - len(summary.doubtful_keys)
        click.echo(
            f"{summary.doubtful} results with a confidence under {REVIEW_BELOW} (worth a look): "
            f"{', '.join(summary.doubtful_keys)}" + (f" and {more} more" if more > 0 else ""),
            err=True,
        )
    rate = summary.done / summary.seconds if summary.done and summary.seconds > 0 else 0.0
    click.echo(
        f"{summary.done} done, {summary.failed} failed, {summary.skipped} already done "
        f"(of {summary.listed} images) in {summary.seconds:.1f} s"
        + (f", {rate:.1f} img/s" if rate else "")
        + (f"; manifest: {summary.manifest}" if summary.manifest else ""),
        err=True,
    )


def tell_failure(entry: Entry) -> None:
    """A failure, as it happens: which input, its error code and why."""
    tqdm.write(f"error [{entry.code}]: {entry.key}: {entry.message}", file=sys.stderr)


def _is_one_file(inputs: tuple[str, ...]) -> bool:
    return len(inputs) == 1 and Path(inputs[0]).is_file()


def _video_format_from_name(video: VideoJob, path: Path) -> str:
    """A clip's output file's suffix picks its format."""
    named = path.suffix.lower().lstrip(".")
    if video.format and video.format != named:
        raise click.UsageError(
            f"--video-format {video.format} does not match the file name {path.name}."
        )
    return named


def _format_from_name(request: OutputRequest, path: Path) -> OutputRequest:
    """An output file's suffix picks its encoding."""
    suffix = path.suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        raise click.ClickException(
            f"{path}: cannot write {suffix} files; name a .png, .jpg or .webp."
        )
    named = FORMAT_BY_SUFFIX[suffix]
    if request.format and request.format.replace("jpg", "jpeg") != named:
        raise click.UsageError(
            f"--format {request.format} does not match the file name {path.name}."
        )
    return replace(request, format=named)
