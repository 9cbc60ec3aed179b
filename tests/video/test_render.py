"""Clips through the real codecs and the real model: each output type, timing, audio, rotation
and GIF input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from humanseg.pipeline import Pipeline
from humanseg.schema import parse_output_spec
from humanseg.settings import PipelineSettings, VideoSettings
from humanseg.video import source
from humanseg.video.formats import (
    VideoKind,
)
from humanseg.video.render import limits_of, render_video
from tests.support import images
from tests.support.videos import person_frames, read_clip, write_clip

pytestmark = pytest.mark.slow  # the real model on every frame of several clips


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(PipelineSettings(), concurrency=1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """96×72, 10 frames at 10 fps, AAC audio, H.264 in MP4."""
    return write_clip(tmp_path_factory.mktemp("in") / "in.mp4", person_frames(10, (96, 72)))


def render(pipeline: Pipeline, clip: Path, out: Path, kind: str, **fields: object) -> Path:
    video_kind = VideoKind(kind)
    spec = parse_output_spec(video_kind.output_type.value, **fields)  # type: ignore[arg-type]
    render_video(pipeline, clip, out, video_kind, spec)
    return out


@pytest.mark.parametrize(
    ("kind", "name", "codec", "audio", "alpha"),
    [
        ("foreground", "out.webm", "vp9", "opus", True),  # AAC cannot go in WebM: re-encoded
        ("foreground", "out.mov", "prores", "aac", True),
        ("alpha", "out.mp4", "h264", "aac", False),
        ("mask", "out.webm", "vp9", "opus", False),
        ("blur", "out.mp4", "h264", "aac", False),
    ],
)
def test_each_type_keeps_size_frames_duration_and_audio(
    pipeline: Pipeline,
    clip: Path,
    tmp_path: Path,
    kind: str,
    name: str,
    codec: str,
    audio: str,
    alpha: bool,
) -> None:
    out = render(pipeline, clip, tmp_path / name, kind)
    facts, original = read_clip(out), read_clip(clip)
    assert facts.codec == codec
    assert facts.size == (96, 72)
    assert facts.frames == 10
    assert facts.times == pytest.approx(original.times, abs=1e-3)
    assert facts.seconds == pytest.approx(1.0, abs=0.01)
    assert facts.audio_codec == audio and facts.audio_packets > 0
    assert bool(facts.alpha) is alpha
    if alpha:  # a real matte: opaque somewhere, transparent somewhere
        assert all(plane.max() > 200 and plane.min() < 20 for plane in facts.alpha)
    assert not list(tmp_path.glob(".*.tmp"))


def test_mp4_audio_is_copied_packet_for_packet(
    pipeline: Pipeline, clip: Path, tmp_path: Path
) -> None:
    out = render(pipeline, clip, tmp_path / "out.mp4", "background", bg_color="#00ff00")
    assert read_clip(out).audio_packets == read_clip(clip).audio_packets


def test_a_new_background_shows_where_the_person_is_not(pipeline: Pipeline, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in.mkv", person_frames(4, size=(160, 120)), audio=False)
    out = render(pipeline, clip, tmp_path / "green.mp4", "background", bg_color="#00ff00")
    facts = read_clip(out)
    assert (facts.codec, facts.frames, facts.audio_codec) == ("h264", 4, None)
    red, green, blue = facts.first[:12, :12].reshape(-1, 3).mean(axis=0)  # beside the person
    assert green > 200 and red < 60 and blue < 60
    backdrop = Image.new("RGB", (50, 30), (0, 0, 255))
    spec = parse_output_spec("background", bg_image=images.encode(backdrop, "PNG"))
    target = tmp_path / "blue.webm"
    render_video(pipeline, clip, target, VideoKind.BACKGROUND, spec, background=backdrop)
    red, green, blue = read_clip(target).first[:12, :12].reshape(-1, 3).mean(axis=0)
    assert blue > 200 and red < 60 and green < 60


def test_frames_are_a_zip_of_transparent_pngs(
    pipeline: Pipeline, clip: Path, tmp_path: Path
) -> None:
    out = render(pipeline, clip, tmp_path / "out.zip", "frames")
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        first = images.decode(archive.read(names[0]))
    assert len(names) == 10 and names[0].endswith(".png") and "0000100ms" in names[1]
    assert first.mode == "RGBA" and first.size == (96, 72)


def test_rotation_metadata_gives_upright_frames(pipeline: Pipeline, tmp_path: Path) -> None:
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:, :32] = 255  # white on the left, as stored
    clip = write_clip(tmp_path / "phone.mp4", [picture] * 3, rotation=90, audio=False)
    limits = limits_of(VideoSettings())
    with source.open_video(clip, limits) as container:
        frames = [item for item in source.read(container, limits) if not hasattr(item, "dts")]
    upright = frames[0].rgb
    assert upright.shape == (64, 48, 3)
    # shown turned 90° counter-clockwise: the stored left half is now the bottom half
    assert upright[40:, :].mean() > 200 and upright[:24, :].mean() < 50
    out = render(pipeline, clip, tmp_path / "out.webm", "alpha")
    assert read_clip(out).size == (48, 64)


def test_an_animated_gif_and_variable_frame_rate(pipeline: Pipeline, tmp_path: Path) -> None:
    gif = write_clip(tmp_path / "in.gif", person_frames(6), audio=False)
    facts = read_clip(render(pipeline, gif, tmp_path / "gif.webm", "foreground"))
    assert (facts.frames, facts.size) == (6, (64, 48))
    assert facts.seconds == pytest.approx(0.6, abs=0.01)
    ticks = [0, 1, 2, 4, 7, 8, 12]  # frames at irregular times, in 1/10 s
    vfr = write_clip(tmp_path / "vfr.webm", person_frames(7), pts=ticks)
    out = read_clip(render(pipeline, vfr, tmp_path / "vfr.mp4", "alpha"))
    assert out.times == pytest.approx([tick / 10 for tick in ticks], abs=1e-3)
    assert out.audio_codec == "opus"  # MP4 takes Opus as it is


def test_a_stop_mid_clip_ends_every_thread_and_leaves_no_file(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    import threading

    long_clip = write_clip(tmp_path / "long.mp4", person_frames(40, (96, 72)))
    before = set(threading.enumerate())

    def progress(done: int, total: int | None) -> None:
        if done == 5:
            raise KeyboardInterrupt  # what a cancelled job or Ctrl-C does to a render

    spec = parse_output_spec("blur")
    with pytest.raises(KeyboardInterrupt):
        render_video(
            pipeline, long_clip, tmp_path / "out.mp4", VideoKind.BLUR, spec, progress=progress
        )
    assert not (tmp_path / "out.mp4").exists()
    assert not list(tmp_path.glob(".*.tmp"))
    left = [t for t in set(threading.enumerate()) - before if t.name.startswith("humanseg-")]
    assert not left, left
