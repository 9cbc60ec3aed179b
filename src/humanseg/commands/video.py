"""``humanseg video IN... -o OUT``: people cut out of clips, frame by frame with steady edges."""

from __future__ import annotations

import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

import click
from tqdm import tqdm

from humanseg.commands.jobs import pull_models, tell_failure
from humanseg.commands.options import fail, model_dir_option, settings_from_flags
from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.fileio import is_video_name
from humanseg.jobs.cores import worker_settings
from humanseg.jobs.engine import run_job
from humanseg.jobs.locations import S3Prefix, open_location
from humanseg.jobs.manifest import Entry
from humanseg.jobs.naming import output_key, split_collisions
from humanseg.jobs.plan import Item, Plan
from humanseg.jobs.pool import run_pool
from humanseg.jobs.request import OutputRequest
from humanseg.jobs.sinks import OutputFile, Sink
from humanseg.jobs.video import VideoJob, background_image
from humanseg.jobs.worker import Task, Worker

# the values of VideoKind, spelled out so the command line starts without importing PyAV
KINDS = ("foreground", "alpha", "mask", "background", "blur", "frames")


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    help="Output folder; for a single input, a file name also works (its suffix picks the "
    "format: .webm or .mov for foreground, .mp4 or .webm for the others, .zip for frames).",
)
@click.option(
    "--type",
    "kind",
    type=click.Choice(KINDS),
    default="foreground",
    show_default=True,
    help="foreground: transparent video; alpha/mask: the matte as a grayscale video; "
    "background: on --bg-color or --bg-image; blur: the background blurred; frames: a ZIP "
    "of transparent PNGs.",
)
@click.option(
    "--format",
    "suffix",
    type=click.Choice(["webm", "mov", "mp4", "zip"]),
    default=None,
    help="Output format when OUT is a folder [default: webm for foreground, mp4 (H.264) "
    "or webm for the others, zip for frames].",
)
@click.option("--model", default=None, help="Catalog model [default: HUMANSEG_MODEL].")
@click.option("--bg-color", default=None, help="Background colour for --type background.")
@click.option(
    "--bg-image",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Background image for --type background.",
)
@click.option("--blur-strength", type=click.FloatRange(0, 1), default=None, help="0 … 1.")
@click.option(
    "--steady/--no-steady",
    default=None,
    help="Steady the edges along the motion [default: HUMANSEG_VIDEO_STEADY].",
)
@click.option(
    "--model-every",
    type=click.IntRange(1, 10),
    default=None,
    help="With steady edges, run the model on every Nth frame; the frames between follow the "
    "motion [default: HUMANSEG_VIDEO_MODEL_EVERY, 2].",
)
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Clips processed in parallel, one per worker process [default: 1, with a progress "
    "bar per clip].",
)
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")
@model_dir_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def video(
    inputs: tuple[str, ...],
    out: str,
    kind: str,
    suffix: str | None,
    model: str | None,
    bg_color: str | None,
    bg_image: str | None,
    blur_strength: float | None,
    steady: bool | None,
    model_every: int | None,
    workers: int | None,
    overwrite: bool,
    model_dir: str | None,
    quiet: bool,
) -> None:
    """Cut out the people in video clips (MP4, MOV, WebM, MKV, animated GIF).

    Each clip keeps its size, frame rate, timestamps and audio. A failing clip is reported
    and the rest go on; the exit code is 1 if any failed. Folders of clips, and clips among
    photos, go through 'humanseg batch' (resumable, on Ray too).
    """
    try:
        import av  # noqa: F401  (the optional extra)
    except ImportError:
        raise click.ClickException("video needs PyAV: pip install 'humanseg[video]'") from None
    from humanseg.video.frames import check_video_spec

    settings = settings_from_flags(model_dir=model_dir, video_model_every=model_every)
    request = OutputRequest(
        bg_color=bg_color,
        bg_image=Path(bg_image).read_bytes() if bg_image is not None else None,
        blur_strength=blur_strength,
    )
    video_job = VideoJob(kind=kind, format=suffix or "", steady=steady)
    try:
        # a bad option fails here, before any work
        output_type = video_job.video_kind(request).output_type.value
        check_video_spec(replace(request, type=output_type).spec())
        background_image(request.bg_image, settings.pipeline)
        clips = _clips(inputs, out, video_job.suffix(request, settings.video))
    except HumansegError as exc:
        raise click.ClickException(f"[{exc.code}] {exc.message}") from None
    refused = [path for path in inputs if not is_video_name(path)]
    for path in refused:  # the engine tells clips from images by their suffix
        message = "The name is not that of an MP4, M4V, MOV, WebM, MKV or GIF file."
        tell_failure(
            Entry(path, "failed", code=ErrorCode.UNSUPPORTED_VIDEO_FORMAT, message=message)
        )
    todo: list[tuple[Item, Sink]] = []
    for item, sink in clips:
        if not is_video_name(item.key):
            continue
        target = sink.name_of(item.output)
        if Path(target).exists() and not overwrite:
            click.echo(f"{target}: already there (--overwrite to redo)", err=True)
        else:
            todo.append((item, sink))
    if not todo:
        sys.exit(1 if refused else 0)
    task = Task(settings, request, todo[0][1], model, video_job)
    try:
        pull_models(settings.pipeline, model)
    except HumansegError as exc:
        fail(exc)
    count = min(workers or 1, len(todo))
    shared = worker_settings(settings, processes=count)
    if count > 1:
        sink = todo[0][1]
        summary = run_job(
            Plan([item for item, _ in todo], []),
            sink,
            partial(run_pool, replace(task, settings=shared), workers=count),
            manifest=None,
            overwrite=True,
            progress=not quiet,
            on_failure=tell_failure,
            unit="clip",
        )
        sys.exit(1 if summary.failed or refused else 0)
    worker = Worker(replace(task, settings=shared))
    failed = 0
    try:
        failed = _one_by_one(worker, todo, quiet=quiet)
    finally:
        for _item, sink in todo:
            sink.clean_temporaries()
    sys.exit(1 if failed or refused else 0)


def _one_by_one(worker: Worker, todo: list[tuple[Item, Sink]], *, quiet: bool) -> int:
    """Each clip in this process with its own bar (frames, fps, ETA); how many failed."""
    failed = 0
    for item, sink in todo:
        worker.task = replace(worker.task, sink=sink)
        frames = [0]
        with tqdm(unit="frame", desc=item.key, file=sys.stderr, disable=quiet) as bar:

            def progress(
                done: int, total: int | None, bar: tqdm = bar, frames: list[int] = frames
            ) -> None:
                frames[0] = done
                if total and bar.total != total:
                    bar.total = total
                bar.update(done - bar.n)

            entry = worker.process(item, progress)
        if entry.status == "failed":
            failed += 1
            tell_failure(entry)
            continue
        click.echo(f"{sink.name_of(item.output)}: {frames[0]} frames", err=True)
    return failed


def _clips(inputs: tuple[str, ...], out: str, suffix: str) -> list[tuple[Item, Sink]]:
    """Each input with where it goes: a single input may name its output file, else OUT is
    a folder and each output is named by the one rule (``talk.mov`` → ``talk.webm``)."""
    paths = [Path(name) for name in inputs]
    out_path = Path(out)
    if len(paths) == 1 and out_path.suffix and not out_path.is_dir():
        item = Item(paths[0].name, paths[0].resolve(), output=out_path.name)
        return [(item, OutputFile(out_path))]
    folder = open_location(out)
    if isinstance(folder, S3Prefix):
        raise error(ErrorCode.INVALID_REQUEST, "Write clips to s3:// with 'humanseg batch'.")
    items = [
        Item(path.name, path.resolve(), output=output_key(path.name, video_suffix=lambda: suffix))
        for path in paths
    ]
    unique, colliding = split_collisions(items, lambda item: item.output)
    if colliding:
        raise error(ErrorCode.INVALID_REQUEST, colliding[0][1])
    return [(item, folder) for item in unique]
