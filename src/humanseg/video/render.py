"""A whole clip: open and check it, then decode → matte → temporal step → compose → encode,
frame by frame, with the audio carried over. Each stage's time is counted for benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.error
from PIL import Image

from humanseg.errors import ErrorCode, error
from humanseg.outputs import OutputSpec
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings, VideoSettings
from humanseg.video import source
from humanseg.video.formats import ZIP_PNG, VideoFormat, VideoKind, choose_format
from humanseg.video.frames import FrameRenderer, check_video_spec
from humanseg.video.sink import EncodedVideo, FrameSink, PngFrames
from humanseg.video.temporal import SteadyMatte

STAGES = ("decode", "matte", "temporal", "compose", "encode")


@dataclass
class StageTimes:
    """Seconds spent per stage over a clip."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] += now - started
        return now


@dataclass(frozen=True)
class VideoResult:
    path: Path
    format: VideoFormat
    frames: int
    size: tuple[int, int]
    times: StageTimes


def limits_of(settings: VideoSettings) -> source.VideoLimits:
    return source.VideoLimits(
        max_bytes=settings.video_max_bytes,
        max_side=settings.video_max_side,
        max_seconds=settings.video_max_seconds,
        max_frames=settings.video_max_frames,
    )


def probe(path: Path, settings: VideoSettings) -> source.VideoInfo:
    """What the container says of the clip, refused if it is over a limit; no frame decoded."""
    limits = limits_of(settings)
    with source.open_video(path, limits) as container:
        info = source.describe(container)
    source.check_limits(info, limits)
    return info


def render_video(
    pipeline: Pipeline,
    input_path: Path,
    output_path: Path,
    kind: VideoKind,
    spec: OutputSpec,
    *,
    video: VideoSettings | None = None,
    model: str | None = None,
    background: Image.Image | None = None,
    steady: bool | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> VideoResult:
    """Write the clip at ``input_path`` as ``kind`` to ``output_path`` (its suffix picks the
    format among those ``kind`` allows). ``progress(done, total)`` after each frame."""
    settings = pipeline.settings
    video = video or VideoSettings()
    fmt = choose_format(kind, output_path.suffix, allow_h264=video.video_h264)
    check_video_spec(spec)
    limits = limits_of(video)
    times = StageTimes()
    partial = output_path.with_name(f".{output_path.name}.tmp")
    with source.open_video(input_path, limits) as container:
        info = source.describe(container)
        source.check_limits(info, limits)  # before the model is even loaded
        steady = video.video_steady if steady is None else steady
        renderer = FrameRenderer(
            pipeline.resolver.get(model or settings.model),
            spec,
            refine=settings.refine_edges if spec.refine is None else spec.refine,
            steady=SteadyMatte() if steady else None,
            background=background,
        )
        sink: FrameSink | None = None
        waiting_audio: list[av.Packet] = []  # audio ahead of the first frame
        count = 0
        size = (info.width, info.height)
        try:
            started = time.perf_counter()
            for item in source.read(container, limits):
                if isinstance(item, av.Packet):
                    if sink is None:
                        waiting_audio.append(item)
                    else:
                        sink.audio(item)
                    started = time.perf_counter()
                    continue
                started = times.add("decode", started)
                matte = renderer.matte(item.rgb)
                started = times.add("matte", started)
                matte = renderer.steady_matte(item.rgb, matte)
                started = times.add("temporal", started)
                pixels = renderer.compose(item.rgb, matte)
                started = times.add("compose", started)
                if sink is None:  # the first frame tells the upright size
                    size = (item.rgb.shape[1], item.rgb.shape[0])
                    sink = _open_sink(partial, fmt, info, size, container, settings)
                    for packet in waiting_audio:
                        sink.audio(packet)
                    waiting_audio.clear()
                sink.write(pixels, item.pts)
                count += 1
                started = times.add("encode", started)
                if progress is not None:
                    progress(count, expected_frames(info))
            if sink is None:
                raise error(ErrorCode.INVALID_VIDEO, "The video has no frames.")
            sink.close()
            sink = None
            partial.replace(output_path)
        except av.error.FFmpegError as exc:  # the decoder's own errors are INVALID_VIDEO
            raise error(
                ErrorCode.INTERNAL_ERROR, f"The video could not be written: {exc}"
            ) from None
        finally:
            if sink is not None:
                sink.close()
            partial.unlink(missing_ok=True)
    return VideoResult(output_path, fmt, count, size, times)


def expected_frames(info: source.VideoInfo) -> int | None:
    """The clip's frame count as its header gives it, or as its duration and rate imply."""
    if info.frames:
        return info.frames
    if info.seconds and info.frame_rate:
        return round(info.seconds * info.frame_rate)
    return None


def _open_sink(
    path: Path,
    fmt: VideoFormat,
    info: source.VideoInfo,
    size: tuple[int, int],
    container: av.container.InputContainer,
    settings: PipelineSettings,
) -> FrameSink:
    if fmt is ZIP_PNG:
        return PngFrames(path, time_base=info.time_base, compress_level=settings.png_compress_level)
    audio = container.streams.audio[0] if container.streams.audio else None
    return EncodedVideo(
        path,
        fmt,
        size=size,
        frame_rate=info.frame_rate,
        time_base=info.time_base,
        audio=audio,
    )
