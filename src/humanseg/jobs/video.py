"""A clip as one job item: its output's suffix, and its rendering by ``humanseg.video``.

A clip is rendered to a temporary file in the sink's ``scratch()`` folder, then moved or
uploaded whole by ``write_file``, so a crash never leaves half a video under its name. PyAV
(the ``video`` extra) is imported only when a clip is met.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from humanseg.errors import ErrorCode, error
from humanseg.fileio import path_inside
from humanseg.jobs.locations import LocalFolder
from humanseg.jobs.request import OutputRequest
from humanseg.settings import Settings, VideoSettings
from humanseg.sources import video_limit

if TYPE_CHECKING:
    from PIL import Image

    from humanseg.jobs.plan import Item
    from humanseg.jobs.sinks import Sink
    from humanseg.pipeline import Pipeline
    from humanseg.settings import PipelineSettings
    from humanseg.video.formats import VideoKind

MEDIA_TYPES = {
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".zip": "application/zip",
}
NO_PYAV = "Videos need PyAV: pip install 'humanseg[video]'."

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class VideoJob:
    """What a job makes of each clip, beyond the image options it shares."""

    kind: str = ""  # a VideoKind value; "": the job's image type (alpha if none)
    format: str = ""  # "webm", "mov", "mp4" or "zip"; "": the kind's first choice
    steady: bool | None = None  # None: HUMANSEG_VIDEO_STEADY

    def video_kind(self, request: OutputRequest) -> VideoKind:
        from humanseg.video.formats import VideoKind

        value = self.kind or request.type or "alpha"
        try:
            return VideoKind(value)
        except ValueError:
            allowed = ", ".join(kind.value for kind in VideoKind)
            raise error(
                ErrorCode.INVALID_TYPE, f"A video's type is one of {allowed}, not {value}."
            ) from None

    def suffix(self, request: OutputRequest, settings: VideoSettings) -> str:
        """The outputs' suffix, chosen per type as ``humanseg video`` chooses it."""
        try:
            from humanseg.video.formats import choose_format
        except ImportError:
            raise error(ErrorCode.UNSUPPORTED_VIDEO_FORMAT, NO_PYAV) from None
        given = f".{self.format}" if self.format else None
        kind = self.video_kind(request)
        return choose_format(kind, given, allow_h264=settings.video_h264).suffix


def render_item(
    pipeline: Pipeline,
    item: Item,
    *,
    request: OutputRequest,
    video: VideoJob,
    settings: Settings,
    sink: Sink,
    model: str | None,
    progress: Progress | None = None,
) -> None:
    """Read ``item``'s clip, render it as the job asks and write it to ``sink``."""
    try:
        from humanseg.video.frames import check_video_spec
        from humanseg.video.render import render_video
    except ImportError:
        raise error(ErrorCode.UNSUPPORTED_VIDEO_FORMAT, NO_PYAV) from None
    kind = video.video_kind(request)
    spec = replace(request, type=kind.output_type.value, format=None).spec()
    check_video_spec(spec)
    background = background_image(request.bg_image, settings.pipeline)
    suffix = PurePosixPath(item.output).suffix
    with tempfile.TemporaryDirectory(prefix=".humanseg-video-", dir=sink.scratch()) as scratch:
        folder = Path(scratch)
        result = folder / f"result{suffix}"
        render_video(
            pipeline,
            _local_input(item, folder, settings),
            result,
            kind,
            spec,
            video=settings.video,
            model=model,
            background=background,
            steady=video.steady,
            progress=progress,
        )
        media_type = MEDIA_TYPES.get(suffix, "application/octet-stream")
        sink.write_file(item.output, result, media_type, settings.sources)


def background_image(data: bytes | None, settings: PipelineSettings) -> Image.Image | None:
    """``--bg-image``'s picture, decoded under the image limits."""
    if data is None:
        return None
    from humanseg import imaging

    decoded = imaging.decode(
        data,
        max_side=settings.max_image_side,
        max_pixels=settings.max_image_pixels,
        max_jpeg_scans=settings.max_jpeg_scans,
    )
    return imaging.as_image(decoded.rgb)


def _local_input(item: Item, folder: Path, settings: Settings) -> Path:
    """The clip as a local file: where it is, or fetched into ``folder`` (under the video
    size limit, not the image one)."""
    if isinstance(item.origin, Path):
        return item.origin
    if isinstance(item.origin, LocalFolder):
        return path_inside(item.origin.root, item.key)
    with video_limit(settings.sources, settings.video.video_max_bytes) as sources:
        data = item.read(sources)
    local = folder / f"input{PurePosixPath(item.key).suffix}"
    local.write_bytes(data)
    return local
