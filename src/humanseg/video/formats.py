"""Which file a video output becomes: container, encoder and pixel format per type.

Encoders, all in the PyAV wheel's FFmpeg build (see docs/video.md for their licences):
``libvpx-vp9`` (WebM, with alpha as yuva420p), ``prores_ks`` (MOV, ProRes 4444 with alpha as
yuva444p10le), ``libx264`` (MP4) where the build has it and the operator allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

import av

from humanseg.errors import ErrorCode, error
from humanseg.outputs import OutputType


class VideoKind(StrEnum):
    """What is encoded: the five image types, or ``frames`` (the cut-outs as a ZIP of PNGs)."""

    FOREGROUND = "foreground"
    ALPHA = "alpha"
    MASK = "mask"
    BACKGROUND = "background"
    BLUR = "blur"
    FRAMES = "frames"

    @property
    def output_type(self) -> OutputType:
        return OutputType.FOREGROUND if self is VideoKind.FRAMES else OutputType(self.value)


@dataclass(frozen=True)
class VideoFormat:
    suffix: str  # ".webm", ".mov", ".mp4", ".zip"
    container: str  # FFmpeg's muxer; "zip" for PNG frames
    codec: str = ""
    pix_fmt: str = ""  # for an even-sized picture
    odd_pix_fmt: str = ""  # for an odd width or height, where the first needs even sides
    options: dict[str, str] = field(default_factory=dict)  # the encoder's
    muxer_options: dict[str, str] = field(default_factory=dict)
    audio_codec: str = ""  # what audio the container cannot take as it is is re-encoded to
    audio_copied: frozenset[str] = frozenset()  # audio codecs copied as they are

    def pixel_format(self, width: int, height: int) -> str:
        odd = width % 2 or height % 2
        return self.odd_pix_fmt if odd and self.odd_pix_fmt else self.pix_fmt


# Realtime speed settings: the 2-core budget aims at real time for 720p.
_VP9 = {"deadline": "realtime", "cpu-used": "8", "row-mt": "1", "crf": "30", "b": "0"}
# Audio each container takes as it is (a shorter list than FFmpeg's muxers may accept: these
# are the ones players handle there).
_WEBM_AUDIO = frozenset({"opus", "vorbis"})
_MOV_AUDIO = frozenset({"aac", "mp3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"})
_MP4_AUDIO = frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"})
WEBM_VP9_ALPHA = VideoFormat(
    ".webm",
    "webm",
    "libvpx-vp9",
    "yuva420p",
    options=_VP9,
    audio_codec="libopus",
    audio_copied=_WEBM_AUDIO,
)
WEBM_VP9 = VideoFormat(
    ".webm",
    "webm",
    "libvpx-vp9",
    "yuv420p",
    options=_VP9,
    audio_codec="libopus",
    audio_copied=_WEBM_AUDIO,
)
MOV_PRORES_4444 = VideoFormat(
    ".mov",
    "mov",
    "prores_ks",
    "yuva444p10le",
    options={"profile": "4444"},
    audio_codec="aac",
    audio_copied=_MOV_AUDIO,
)
MP4_H264 = VideoFormat(
    ".mp4",
    "mp4",
    "libx264",
    "yuv420p",
    # 4:2:0 needs even sides; an odd-sized clip keeps its size in 4:4:4
    odd_pix_fmt="yuv444p",
    options={"preset": "veryfast", "crf": "18"},
    muxer_options={"movflags": "+faststart"},  # playable while it downloads
    audio_codec="aac",
    audio_copied=_MP4_AUDIO,
)
# A matte is flat grey with one edge: the faster preset costs a third less time for a quarter
# more bytes, where on a photo's colours it would cost three times the bytes.
MP4_H264_MATTE = replace(MP4_H264, options={"preset": "superfast", "crf": "18"})
ZIP_PNG = VideoFormat(".zip", "zip")


def has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except (av.error.FFmpegError, ValueError):  # not in this FFmpeg build
        return False
    return True


def choose_format(kind: VideoKind, suffix: str | None, *, allow_h264: bool) -> VideoFormat:
    """The format for ``kind``; ``suffix`` (of the output's name) picks among those it allows.

    ``foreground``: WebM (VP9 with alpha, plays in browsers) or MOV (ProRes 4444, for editors);
    ``alpha``, ``mask``, ``background``, ``blur``: MP4 (H.264) or WebM (VP9), MP4 first where
    the build has H.264 and ``allow_h264``; ``frames``: ZIP.
    """
    h264 = allow_h264 and has_encoder(MP4_H264.codec)
    if kind is VideoKind.FRAMES:
        choices = [ZIP_PNG]
    elif kind is VideoKind.FOREGROUND:
        choices = [WEBM_VP9_ALPHA, MOV_PRORES_4444]
    else:
        matte = kind in (VideoKind.ALPHA, VideoKind.MASK)
        mp4 = MP4_H264_MATTE if matte else MP4_H264
        choices = [mp4, WEBM_VP9] if h264 else [WEBM_VP9]
    if not suffix:
        return choices[0]
    for choice in choices:
        if choice.suffix == suffix.lower():
            return choice
    allowed = ", ".join(choice.suffix for choice in choices)
    raise error(
        ErrorCode.INVALID_FORMAT, f"A {kind.value} video is written as {allowed}, not {suffix}."
    )
