"""What is refused before any frame is decoded or any model loaded: limits, files that are not
videos, types and formats a clip cannot have."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from humanseg.errors import ErrorCode, HumansegError
from humanseg.pipeline import Pipeline
from humanseg.schema import parse_output_spec
from humanseg.settings import PipelineSettings, VideoSettings
from humanseg.video import source
from humanseg.video.formats import (
    MP4_H264,
    WEBM_VP9,
    WEBM_VP9_ALPHA,
    VideoKind,
    choose_format,
)
from humanseg.video.render import limits_of, probe, render_video
from tests.support.videos import person_frames, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64×48, 10 frames at 10 fps, AAC audio, H.264 in MP4."""
    return write_clip(tmp_path_factory.mktemp("in") / "in.mp4", person_frames(10))


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("video_max_bytes", 1000, ErrorCode.VIDEO_TOO_LARGE),
        ("video_max_side", 32, ErrorCode.VIDEO_TOO_LARGE),
        ("video_max_seconds", 0.5, ErrorCode.VIDEO_TOO_LONG),
        ("video_max_frames", 5, ErrorCode.VIDEO_TOO_LONG),
    ],
)
def test_limits_refuse_from_the_header_before_any_frame(
    clip: Path, tmp_path: Path, setting: str, value: float, code: ErrorCode
) -> None:
    pipeline = Pipeline(PipelineSettings(), concurrency=1)
    video = VideoSettings(**{setting: value})
    done: list[int] = []
    out = tmp_path / "out.webm"
    with pytest.raises(HumansegError) as caught:
        render_video(
            pipeline,
            clip,
            out,
            VideoKind.ALPHA,
            parse_output_spec("alpha"),
            video=video,
            progress=lambda count, _total: done.append(count),
        )
    assert caught.value.code is code
    assert done == [] and not out.exists() and not list(tmp_path.iterdir())
    with pytest.raises(HumansegError):
        probe(clip, video)


def test_a_longer_clip_than_its_header_says_stops_at_the_limit(clip: Path) -> None:
    limits = source.VideoLimits(max_bytes=10**9, max_side=4096, max_seconds=60, max_frames=4)
    with source.open_video(clip, limits) as container, pytest.raises(HumansegError) as caught:
        for _item in source.read(container, limits):  # the header is not asked here
            pass
    assert caught.value.code is ErrorCode.VIDEO_TOO_LONG


def test_what_is_not_a_video_is_refused(clip: Path, tmp_path: Path) -> None:
    limits = limits_of(VideoSettings())
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    picture = tmp_path / "photo.png"
    Image.new("RGB", (32, 32)).save(picture)
    playlist = tmp_path / "list.m3u8"  # a playlist would make FFmpeg fetch what it names
    playlist.write_text("#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/clip.ts\n")
    for path in (text, picture, playlist):
        with pytest.raises(HumansegError) as caught:
            source.open_video(path, limits)
        assert caught.value.code is ErrorCode.UNSUPPORTED_VIDEO_FORMAT, path.name
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[:200])  # an MP4's start, and nothing after it
    with pytest.raises(HumansegError) as caught, source.open_video(broken, limits) as container:
        list(source.read(container, limits))
    assert caught.value.code is ErrorCode.INVALID_VIDEO


@pytest.mark.parametrize(
    ("head", "demuxer"),
    [
        (b"\x00\x00\x00\x20ftypisom", "mov"),
        (b"\x00\x00\x00\x14ftypqt  ", "mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "matroska"),
        (b"GIF89a\x10\x00", "gif"),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"#EXTM3U\n", None),
    ],
)
def test_the_container_is_told_from_the_first_bytes(head: bytes, demuxer: str | None) -> None:
    assert source.sniff_container(head.ljust(16, b"\0")) == demuxer


def test_formats_by_type_suffix_and_h264_choice() -> None:
    assert choose_format(VideoKind.FOREGROUND, None, allow_h264=True) is WEBM_VP9_ALPHA
    assert choose_format(VideoKind.BLUR, None, allow_h264=True) is MP4_H264
    assert choose_format(VideoKind.BLUR, None, allow_h264=False) is WEBM_VP9
    assert choose_format(VideoKind.ALPHA, ".WEBM", allow_h264=True) is WEBM_VP9
    # a matte is encoded faster: the same codec and container, another preset
    matte = choose_format(VideoKind.MASK, ".mp4", allow_h264=True)
    assert (matte.codec, matte.container) == (MP4_H264.codec, MP4_H264.container)
    assert matte.options["preset"] == "superfast"
    with pytest.raises(HumansegError) as caught:
        choose_format(VideoKind.FOREGROUND, ".mp4", allow_h264=True)
    assert caught.value.code is ErrorCode.INVALID_FORMAT
    with pytest.raises(HumansegError) as caught:
        choose_format(VideoKind.BLUR, ".mp4", allow_h264=False)
    assert caught.value.code is ErrorCode.INVALID_FORMAT


def test_image_only_types_are_refused(clip: Path, tmp_path: Path) -> None:
    pipeline = Pipeline(PipelineSettings(), concurrency=1)
    with pytest.raises(HumansegError) as caught:
        render_video(
            pipeline, clip, tmp_path / "o.webm", VideoKind.FOREGROUND, parse_output_spec("crop")
        )
    assert caught.value.code is ErrorCode.INVALID_TYPE


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm", ".gif"])
def test_each_container_decodes_with_its_timestamps_and_audio(tmp_path: Path, suffix: str) -> None:
    clip = write_clip(tmp_path / f"in{suffix}", person_frames(5))
    limits = limits_of(VideoSettings())
    with source.open_video(clip, limits) as container:
        info = source.describe(container)
        items = list(source.read(container, limits))
    frames = [item for item in items if isinstance(item, source.VideoFrame)]
    assert [frame.seconds for frame in frames] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    assert all(frame.rgb.shape == (48, 64, 3) for frame in frames)
    assert (info.width, info.height) == (64, 48)
    assert info.has_audio is (suffix != ".gif")
    assert (len(items) > len(frames)) is info.has_audio  # the audio packets, as they are
