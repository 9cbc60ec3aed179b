"""Open a video, check it against the limits from its header, decode upright frames."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error
import numpy as np

from humanseg.errors import ErrorCode, error

# FFmpeg's demuxer for each container humanseg takes, and the short name it reports. The
# container is told from the file's first bytes and its demuxer named when opening, so FFmpeg
# never probes: no other demuxer (playlists that fetch URLs, image sequences...) ever runs.
DEMUXERS = {"mov": "mp4", "matroska": "webm", "gif": "gif"}
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")


def sniff_container(head: bytes) -> str | None:
    """The demuxer for a file starting with ``head`` (16 bytes or more), or None."""
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska and WebM
        return "matroska"
    if head[4:8] in _MP4_BOXES:  # MP4 and QuickTime MOV
        return "mov"
    return None


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int
    max_side: int
    max_seconds: float
    max_frames: int


@dataclass(frozen=True)
class VideoInfo:
    container: str  # "mp4" (MP4 and MOV), "webm" (WebM and MKV) or "gif"
    width: int  # as stored; frames may be shown rotated (see ``VideoFrame.rgb``)
    height: int
    frame_rate: Fraction | None  # the average rate, when the container gives one
    seconds: float | None
    frames: int | None  # when the container counts them
    time_base: Fraction
    has_audio: bool


@dataclass(frozen=True)
class VideoFrame:
    rgb: np.ndarray  # H×W×3 uint8, upright (the display rotation applied)
    pts: int | None  # in the stream's time base, as decoded
    seconds: float


def check_file_size(path: Path, limits: VideoLimits) -> None:
    size = os.path.getsize(path)
    if size > limits.max_bytes:
        raise error(
            ErrorCode.VIDEO_TOO_LARGE,
            f"The video file has {size} bytes, more than the limit of {limits.max_bytes}.",
        )


def open_video(path: Path, limits: VideoLimits) -> av.container.InputContainer:
    """The opened container, after the file-size limit; only its header has been read."""
    check_file_size(path, limits)
    with open(path, "rb") as file:
        demuxer = sniff_container(file.read(16))
    if demuxer is None:
        raise error(
            ErrorCode.UNSUPPORTED_VIDEO_FORMAT, "The file is not an MP4, MOV, WebM, MKV or GIF."
        )
    try:
        container = av.open(str(path), mode="r", format=demuxer)
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise error(ErrorCode.INVALID_VIDEO, f"The video cannot be opened: {exc}") from None
    if not container.streams.video:
        container.close()
        raise error(ErrorCode.INVALID_VIDEO, "The file has no picture stream.")
    return container


def describe(container: av.container.InputContainer) -> VideoInfo:
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate
    seconds: float | None = None
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / av.time_base
    time_base = stream.time_base or Fraction(1, 90000)
    return VideoInfo(
        container=DEMUXERS[container.format.name.split(",")[0]],
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        frame_rate=Fraction(rate) if rate else None,
        seconds=seconds,
        frames=stream.frames or None,
        time_base=Fraction(time_base),
        has_audio=bool(container.streams.audio),
    )


def check_limits(info: VideoInfo, limits: VideoLimits) -> None:
    """Refuse a video whose header is over a limit, before any frame is decoded."""
    if max(info.width, info.height) > limits.max_side:
        raise error(
            ErrorCode.VIDEO_TOO_LARGE,
            f"The video's frames are {info.width}×{info.height} px; the longest side may be "
            f"at most {limits.max_side} px.",
        )
    check_length(info.seconds, info.frames, limits)


def check_length(seconds: float | None, frames: int | None, limits: VideoLimits) -> None:
    if seconds is not None and seconds > limits.max_seconds:
        raise error(
            ErrorCode.VIDEO_TOO_LONG,
            f"The video lasts {seconds:.1f} s, longer than the limit of {limits.max_seconds:g} s.",
        )
    if frames is not None and frames > limits.max_frames:
        raise error(
            ErrorCode.VIDEO_TOO_LONG,
            f"The video has {frames} frames, more than the limit of {limits.max_frames}.",
        )


def upright(pixels: np.ndarray, rotation: int) -> np.ndarray:
    """A decoded frame as it is meant to be shown: ``rotation`` is FFmpeg's display rotation,
    counter-clockwise degrees (a phone filming upright stores -90 or 90)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(pixels, turns)) if turns else pixels


def read(
    container: av.container.InputContainer, limits: VideoLimits
) -> Iterator[VideoFrame | av.Packet]:
    """The clip in file order: decoded frames (presentation order) and the first audio
    stream's packets, as they are. A clip longer than its header said stops with an error as
    soon as it passes a limit."""
    video = container.streams.video[0]
    video.thread_type = "AUTO"
    time_base = video.time_base or Fraction(1, 90000)
    start = video.start_time or 0
    count = 0
    try:
        for packet in container.demux(video, *container.streams.audio[:1]):
            if packet.stream.type != "video":
                yield packet
                continue
            for frame in packet.decode():
                count += 1
                seconds = float((frame.pts - start) * time_base) if frame.pts is not None else 0.0
                check_length(seconds, count, limits)
                if max(frame.width, frame.height) > limits.max_side:
                    raise error(
                        ErrorCode.VIDEO_TOO_LARGE,
                        f"A frame is {frame.width}×{frame.height} px; the longest side may be "
                        f"at most {limits.max_side} px.",
                    )
                pixels = frame.to_ndarray(format="rgb24")
                yield VideoFrame(upright(pixels, int(frame.rotation or 0)), frame.pts, seconds)
    except av.error.FFmpegError as exc:
        raise error(ErrorCode.INVALID_VIDEO, f"The video cannot be decoded: {exc}") from None
