"""A whole clip: open and check it, then decode → matte → temporal step → compose → encode,
frame by frame, with the audio carried over, in three threads (decoding and the motion, the
model and the temporal blend, composing and encoding; see ``humanseg.video.stages``). Each
stage's time is counted for benchmarks."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.error
import numpy as np
from PIL import Image

from humanseg.errors import ErrorCode, error
from humanseg.outputs import OutputSpec
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings, VideoSettings
from humanseg.video import source
from humanseg.video.formats import ZIP_PNG, VideoFormat, VideoKind, choose_format
from humanseg.video.frames import FrameRenderer, check_video_spec
from humanseg.video.sink import EncodedVideo, FrameSink, PngFrames
from humanseg.video.stages import Behind, Prefetch
from humanseg.video.temporal import Motion, TemporalParams

STAGES = ("decode", "matte", "temporal", "compose", "encode")


@dataclass
class StageTimes:
    """Seconds spent per stage over a clip (stages run in three threads, so their sum is more
    than the clip's time)."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    followed: float = 0.0  # of the decoding thread's time, the motion's
    composed: float = 0.0  # of the encoding thread's time, composing's
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        with self._lock:
            self.seconds[stage] += now - started
        return now


@dataclass(frozen=True)
class _Matted:
    """A frame and its steady matte, on their way to be composed and encoded."""

    rgb: np.ndarray
    matte: np.ndarray
    pts: int | None


def _followed(
    items: Iterator[source.VideoFrame | av.Packet], renderer: FrameRenderer, times: StageTimes
) -> Iterator[av.Packet | tuple[source.VideoFrame, Motion | None]]:
    """Decoded frames with the motion from the frame before (in the decoding thread: the
    motion needs only the frames, not their mattes); audio packets as they are."""
    for item in items:
        if isinstance(item, av.Packet):
            yield item
            continue
        started = time.perf_counter()
        motion = renderer.follow(item.rgb)
        times.followed += times.add("temporal", started) - started
        yield item, motion


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
            steady=TemporalParams() if steady else None,
            background=background,
            model_every=video.video_model_every,
        )
        encoder = _Encoder(partial, fmt, info, container, settings, renderer, times)
        # three threads: decoding and the motion (it needs only the frames), then the model
        # and the temporal blend (here), then composing and encoding
        decoded = Prefetch(_followed(source.read(container, limits), renderer, times))
        behind: Behind[av.Packet | _Matted] = Behind(encoder.take)
        count = 0
        try:
            for item in decoded:
                if isinstance(item, av.Packet):
                    behind.put(item)
                    continue
                frame, motion = item
                started = time.perf_counter()
                own = renderer.matte(frame.rgb) if renderer.needs_model(motion) else None
                started = times.add("matte", started)
                matte = renderer.steady_matte(motion, own)
                times.add("temporal", started)
                behind.put(_Matted(frame.rgb, matte, frame.pts))
                count += 1
                if progress is not None:
                    progress(count, expected_frames(info))
            behind.finish()
            if count == 0:
                raise error(ErrorCode.INVALID_VIDEO, "The video has no frames.")
            started = time.perf_counter()
            encoder.close()
            times.add("encode", started)
            partial.replace(output_path)
        except av.error.FFmpegError as exc:  # the decoder's own errors are INVALID_VIDEO
            raise error(
                ErrorCode.INTERNAL_ERROR, f"The video could not be written: {exc}"
            ) from None
        finally:
            decoded.close()
            behind.close()
            encoder.discard()
            partial.unlink(missing_ok=True)
            # the threads' own time, less what they spent on other stages
            times.seconds["decode"] += decoded.seconds - times.followed
            times.seconds["encode"] += behind.seconds - times.composed
    return VideoResult(output_path, fmt, count, encoder.size or (info.width, info.height), times)


class _Encoder:
    """The output file, opened at the first frame (which tells the upright size); audio that
    comes before it waits."""

    def __init__(
        self,
        path: Path,
        fmt: VideoFormat,
        info: source.VideoInfo,
        container: av.container.InputContainer,
        settings: PipelineSettings,
        renderer: FrameRenderer,
        times: StageTimes,
    ) -> None:
        self._open: Callable[[tuple[int, int]], FrameSink] = lambda size: _open_sink(
            path, fmt, info, size, container, settings
        )
        self._renderer = renderer
        self._times = times
        self._sink: FrameSink | None = None
        self._waiting_audio: list[av.Packet] = []
        self.size: tuple[int, int] | None = None

    def take(self, item: av.Packet | _Matted) -> None:
        if isinstance(item, av.Packet):
            if self._sink is None:
                self._waiting_audio.append(item)
            else:
                self._sink.audio(item)
            return
        started = time.perf_counter()
        pixels = self._renderer.compose(item.rgb, item.matte)
        self._times.composed += self._times.add("compose", started) - started
        pts = item.pts
        if self._sink is None:
            self.size = (pixels.shape[1], pixels.shape[0])
            self._sink = self._open(self.size)
            for packet in self._waiting_audio:
                self._sink.audio(packet)
            self._waiting_audio.clear()
        self._sink.write(pixels, pts)

    def close(self) -> None:
        """Flush and close the file."""
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()

    def discard(self) -> None:
        """Close the file after a failure; it is deleted, so its own errors do not matter."""
        with contextlib.suppress(av.error.FFmpegError, OSError, ValueError):
            self.close()


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
