"""Small real video files for the tests, written and read back with PyAV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from humanseg.video.synthetic import CameraPath, camera_clip
from tests.support import images

# Encoder and audio codec per container the tests write.
_ENCODERS = {
    ".mp4": ("libx264", "yuv420p", "aac"),
    ".mov": ("libx264", "yuv420p", "aac"),
    ".mkv": ("libx264", "yuv420p", "aac"),
    ".webm": ("libvpx-vp9", "yuv420p", "libopus"),
    ".gif": ("gif", "rgb8", None),
}


def person_frames(count: int = 10, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """The astronaut photo filmed by a slowly moving camera."""
    photo = np.asarray(images.astronaut().convert("RGB"))
    mask = np.zeros(photo.shape[:2], np.uint8)  # the frames matter here, not the truth
    return [frame.rgb for frame in camera_clip(photo, mask, CameraPath(count, size, noise=1.0))]


def write_clip(
    path: Path,
    frames: Sequence[np.ndarray],
    *,
    fps: int = 10,
    audio: bool = True,
    rotation: int = 0,
    pts: Sequence[int] | None = None,
) -> Path:
    """``frames`` (RGB) as a clip with a tone as audio (not for GIF); ``pts`` in 1/fps
    ticks for a variable frame rate."""
    codec, pix_fmt, audio_codec = _ENCODERS[path.suffix]
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as output:
        video = output.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.codec_context.time_base = Fraction(1, fps)
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio and audio_codec:
            rate = 48000 if audio_codec == "libopus" else 16000
            sound = output.add_stream(audio_codec, rate=rate, layout="mono")
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index if pts is None else pts[index]
            frame.time_base = Fraction(1, fps)
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if sound is not None:
            rate = sound.codec_context.sample_rate
            seconds = ((pts[-1] if pts else len(frames) - 1) + 1) / fps
            samples = (0.2 * np.sin(np.arange(int(rate * seconds)) / 7)).astype(np.float32)
            block = 960 if audio_codec == "libopus" else 1024
            for start in range(0, len(samples), block):
                chunk = samples[start : start + block]
                if len(chunk) < block:
                    chunk = np.pad(chunk, (0, block - len(chunk)))
                piece = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                piece.sample_rate = rate
                piece.pts = start
                output.mux(sound.encode(piece))
            output.mux(sound.encode(None))
    return path


@dataclass(frozen=True)
class ClipFacts:
    container: str
    codec: str
    size: tuple[int, int]
    frames: int
    seconds: float  # from the first frame's start to the last frame's end
    times: list[float]  # each frame's timestamp
    audio_codec: str | None
    audio_packets: int
    alpha: list[np.ndarray]  # each frame's alpha, where the frames carry one
    first: np.ndarray  # the first frame's RGB


def read_clip(path: Path) -> ClipFacts:
    """What a player would find in the file, every frame decoded (VP9 with its alpha)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        name = stream.codec_context.name
        alpha_mode = stream.metadata.get("alpha_mode") == "1"
        decoder = av.CodecContext.create("libvpx-vp9", "r") if alpha_mode else None
        times, alphas, durations = [], [], []
        audio_codec, audio_packets = None, 0
        streams = [stream, *container.streams.audio[:1]]
        for packet in container.demux(*streams):
            if packet.stream.type == "audio":
                audio_codec = packet.stream.codec_context.name
                audio_packets += packet.size > 0
                continue
            if packet.size and packet.duration:
                durations.append(float(packet.duration * packet.time_base))
            for frame in decoder.decode(packet) if decoder else packet.decode():
                times.append(float(frame.pts * stream.time_base))
                if frame.format.name.startswith(("yuva", "rgba", "gbrap")):
                    alphas.append(frame.to_ndarray(format="rgba")[..., 3])
                width, height = frame.width, frame.height
                if len(times) == 1:
                    first = frame.to_ndarray(format="rgb24")
        last = durations[-1] if durations else 0.0
        return ClipFacts(
            container=container.format.name,
            codec=name,
            size=(width, height),
            frames=len(times),
            seconds=times[-1] - times[0] + last,
            times=times,
            audio_codec=audio_codec,
            audio_packets=audio_packets,
            alpha=alphas,
            first=first,
        )
