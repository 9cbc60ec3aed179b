"""Write a clip's output frames: an encoded video with the input's timestamps and audio, or a
ZIP of PNGs."""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import av.container
import av.error
import av.stream
import cv2
import numpy as np

from humanseg import imaging
from humanseg.video.formats import VideoFormat

_PIXEL_LAYOUTS = {2: "gray", 3: "rgb24", 4: "rgba"}  # by the frame's number of dimensions/channels


class FrameSink(Protocol):
    def write(self, pixels: np.ndarray, pts: int | None) -> None: ...

    def audio(self, packet: av.Packet) -> None: ...

    def close(self) -> None: ...


class EncodedVideo:
    """An encoded video file; audio packets are copied as they are when the container takes
    their codec, else decoded and re-encoded to the format's audio codec."""

    def __init__(
        self,
        path: Path,
        fmt: VideoFormat,
        *,
        size: tuple[int, int],
        frame_rate: Fraction | None,
        time_base: Fraction,
        audio: av.stream.Stream | None,
    ) -> None:
        self.fmt = fmt
        self.time_base = time_base
        self._output = av.open(
            str(path), mode="w", format=fmt.container, options=dict(fmt.muxer_options)
        )
        rate = frame_rate or Fraction(30)
        stream = self._output.add_stream(fmt.codec, rate=rate, options=dict(fmt.options))
        stream.width, stream.height = size
        stream.pix_fmt = fmt.pixel_format(*size)
        # the input's own time base keeps variable frame rates and timestamps exact
        stream.codec_context.time_base = time_base
        stream.time_base = time_base
        self._video = stream
        self._last_pts: int | None = None
        self._audio_in = audio
        self._audio_out: av.stream.Stream | None = None
        self._transcode = False
        if audio is not None:
            self._add_audio(audio)

    def _add_audio(self, audio: av.stream.Stream) -> None:
        if audio.codec_context.name in self.fmt.audio_copied:
            self._audio_out = self._output.add_stream_from_template(audio)
            return
        rate = audio.codec_context.sample_rate  # the container does not take this codec
        if self.fmt.audio_codec == "libopus":
            rate = 48000  # the rate Opus always works at
        self._audio_out = self._output.add_stream(self.fmt.audio_codec, rate=rate)
        self._transcode = True

    def write(self, pixels: np.ndarray, pts: int | None) -> None:
        frame = self._frame(np.ascontiguousarray(pixels))
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            # a missing or repeated timestamp: the next tick after the previous frame
            pts = 0 if self._last_pts is None else self._last_pts + 1
        frame.pts = pts
        frame.time_base = self.time_base
        self._last_pts = pts
        self._output.mux(self._video.encode(frame))

    def _frame(self, pixels: np.ndarray) -> av.VideoFrame:
        height, width = pixels.shape[:2]
        if self._video.pix_fmt == "yuv420p" and not (width % 2 or height % 2):
            # The encoder's own conversion (swscale) costs several times OpenCV's; both use
            # BT.601 in limited range, as FFmpeg assumes for an untagged stream.
            if pixels.ndim == 2:  # a matte: gray is luma alone, scaled to 16-235
                planes = np.full((height * 3 // 2, width), 128, np.uint8)
                cv2.convertScaleAbs(pixels, planes[:height], alpha=219 / 255, beta=16)
            else:
                planes = cv2.cvtColor(pixels, cv2.COLOR_RGB2YUV_I420)
            return av.VideoFrame.from_ndarray(planes, format="yuv420p")
        layout = _PIXEL_LAYOUTS[pixels.ndim if pixels.ndim == 2 else pixels.shape[2]]
        return av.VideoFrame.from_ndarray(pixels, format=layout)

    def audio(self, packet: av.Packet) -> None:
        if self._audio_out is None:
            return
        if not self._transcode:
            if packet.dts is None:  # the demuxer's empty packet at the end
                return
            packet.stream = self._audio_out
            self._output.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None  # the encoder numbers its own samples
            self._output.mux(self._audio_out.encode(frame))

    def close(self) -> None:
        try:
            self._output.mux(self._video.encode(None))
            if self._transcode and self._audio_out is not None:
                self._output.mux(self._audio_out.encode(None))
        finally:
            self._output.close()


class PngFrames:
    """A ZIP of one PNG per frame, named by frame number and timestamp in milliseconds."""

    def __init__(self, path: Path, *, time_base: Fraction, compress_level: int) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED)
        self.time_base = time_base
        self.compress_level = compress_level
        self._count = 0

    def write(self, pixels: np.ndarray, pts: int | None) -> None:
        millis = round(float((pts or 0) * self.time_base) * 1000)
        name = f"frame_{self._count:06d}_{millis:09d}ms.png"
        data = imaging.encode_png(pixels, compress_level=self.compress_level)
        self._zip.writestr(name, data)
        self._count += 1

    def audio(self, packet: av.Packet) -> None:
        return  # a folder of pictures has no sound

    def close(self) -> None:
        self._zip.close()
