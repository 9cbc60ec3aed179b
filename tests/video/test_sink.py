"""The encoders alone (no model): what goes into each format comes back out of it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from humanseg.video.formats import MOV_PRORES_4444, MP4_H264, WEBM_VP9, WEBM_VP9_ALPHA, VideoFormat
from humanseg.video.sink import EncodedVideo
from tests.support.videos import read_clip


def half_transparent(index: int) -> np.ndarray:
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., :3] = (40 + index * 10, 120, 200)
    rgba[:, :32, 3] = 255
    return rgba


def write(path: Path, fmt: VideoFormat, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    sink = EncodedVideo(
        path,
        fmt,
        size=(width, height),
        frame_rate=Fraction(25),
        time_base=Fraction(1, 25),
        audio=None,
    )
    for index, pixels in enumerate(frames):
        sink.write(pixels, index)
    sink.close()
    return path


@pytest.mark.parametrize("fmt", [WEBM_VP9_ALPHA, MOV_PRORES_4444], ids=["vp9", "prores"])
def test_alpha_survives_the_transparent_formats(tmp_path: Path, fmt: VideoFormat) -> None:
    frames = [half_transparent(index) for index in range(5)]
    facts = read_clip(write(tmp_path / f"out{fmt.suffix}", fmt, frames))
    assert facts.frames == 5 and facts.size == (64, 48)
    assert facts.seconds == pytest.approx(0.2, abs=1e-3)
    for alpha in facts.alpha:
        assert alpha[:, :28].min() > 240 and alpha[:, 36:].max() < 15


@pytest.mark.parametrize("fmt", [MP4_H264, WEBM_VP9], ids=["h264", "vp9"])
def test_a_matte_video_keeps_its_gray_levels(tmp_path: Path, fmt: VideoFormat) -> None:
    matte = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    facts = read_clip(write(tmp_path / f"matte{fmt.suffix}", fmt, [matte] * 4))
    gray = facts.first.astype(np.int16)
    assert np.abs(gray[..., 0] - matte).mean() < 4
    assert np.abs(gray[..., 0] - gray[..., 2]).max() < 6  # no colour cast


def test_odd_sizes_keep_their_size_in_h264(tmp_path: Path) -> None:
    frames = [np.full((47, 63, 3), 128, np.uint8)] * 3
    assert read_clip(write(tmp_path / "odd.mp4", MP4_H264, frames)).size == (63, 47)


def test_repeated_timestamps_still_give_every_frame(tmp_path: Path) -> None:
    sink = EncodedVideo(
        tmp_path / "out.webm",
        WEBM_VP9,
        size=(32, 32),
        frame_rate=None,
        time_base=Fraction(1, 1000),
        audio=None,
    )
    for pts in (0, 40, 40, None):
        sink.write(np.zeros((32, 32, 3), np.uint8), pts)
    sink.close()
    assert read_clip(tmp_path / "out.webm").frames == 4
