"""``humanseg video IN... -o OUT``: people cut out of clips, frame by frame with steady edges."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from humanseg.commands.options import model_dir_option, settings_from_flags
from humanseg.errors import HumansegError

# the values of VideoKind, spelled out so the command line starts without importing PyAV
KINDS = ("foreground", "alpha", "mask", "background", "blur", "frames")


def _targets(inputs: tuple[str, ...], out: str, suffix: str) -> list[tuple[Path, Path]]:
    """(input, output) pairs: a single input may name its output file, else OUT is a folder."""
    paths = [Path(name) for name in inputs]
    out_path = Path(out)
    if len(paths) == 1 and out_path.suffix and not out_path.is_dir():
        return [(paths[0], out_path)]
    return [(path, out_path / f"{path.stem}{suffix}") for path in paths]


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
    overwrite: bool,
    model_dir: str | None,
    quiet: bool,
) -> None:
    """Cut out the people in video clips (MP4, MOV, WebM, MKV, animated GIF).

    Each clip keeps its size, frame rate, timestamps and audio. A failing clip is reported
    and the rest go on; the exit code is 1 if any failed.
    """
    try:
        import av  # noqa: F401  (the optional extra)
    except ImportError:
        raise click.ClickException("video needs PyAV: pip install 'humanseg[video]'") from None
    from humanseg import imaging
    from humanseg.models.presets import ensure_models
    from humanseg.models.store import ModelStore
    from humanseg.pipeline import Pipeline
    from humanseg.schema import parse_output_spec
    from humanseg.video.formats import VideoKind, choose_format
    from humanseg.video.render import render_video

    settings = settings_from_flags(model_dir=model_dir)
    pipeline_settings, video_settings = settings.pipeline, settings.video
    video_kind = VideoKind(kind)
    try:
        background, bg_bytes = None, None
        if bg_image is not None:
            bg_bytes = Path(bg_image).read_bytes()
            decoded = imaging.decode(
                bg_bytes,
                max_side=pipeline_settings.max_image_side,
                max_pixels=pipeline_settings.max_image_pixels,
                max_jpeg_scans=pipeline_settings.max_jpeg_scans,
            )
            background = imaging.as_image(decoded.rgb)
        spec = parse_output_spec(
            video_kind.output_type.value,
            bg_color=bg_color,
            bg_image=bg_bytes,
            blur_strength=blur_strength,
        )
        fmt = choose_format(
            video_kind, f".{suffix}" if suffix else None, allow_h264=video_settings.video_h264
        )
        ensure_models(
            ModelStore.from_settings(pipeline_settings, progress=True),
            model or pipeline_settings.model,
            pipeline_settings.onnx_engine,
        )
    except HumansegError as exc:
        raise click.ClickException(f"[{exc.code}] {exc.message}") from None
    # one clip at a time, frame after frame: one model session is enough
    pipeline = Pipeline(pipeline_settings, concurrency=1)
    failed = 0
    for source, target in _targets(inputs, out, fmt.suffix):
        if target.exists() and not overwrite:
            click.echo(f"{target}: already there (--overwrite to redo)", err=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with tqdm(unit="frame", desc=source.name, file=sys.stderr, disable=quiet) as bar:

            def progress(done: int, total: int | None, bar: tqdm = bar) -> None:
                if total and bar.total != total:
                    bar.total = total
                bar.update(done - bar.n)

            try:
                result = render_video(
                    pipeline,
                    source,
                    target,
                    video_kind,
                    spec,
                    video=video_settings,
                    model=model,
                    background=background,
                    steady=steady,
                    progress=progress,
                )
            except HumansegError as exc:
                failed += 1
                bar.write(f"error: {source}: [{exc.code}] {exc.message}", file=sys.stderr)
                continue
        click.echo(f"{target}: {result.frames} frames, {result.size[0]}×{result.size[1]}", err=True)
    sys.exit(1 if failed else 0)
