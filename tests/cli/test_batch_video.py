"""`humanseg batch` and `cut` with clips among the images, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.support import images
from tests.support.batch import manifest_lines
from tests.support.s3 import AWS_ENV, BUCKET, boto_kwargs
from tests.support.videos import person_frames, read_clip, write_clip

pytestmark = pytest.mark.slow  # starts CLI processes


def humanseg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humanseg", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_a_folder_of_photos_and_clips_through_the_process_pool(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for index in range(3):
        images.astronaut().convert("RGB").save(source / f"photo{index}.jpg")
    write_clip(source / "talk.webm", person_frames(5, (96, 72)))
    write_clip(source / "still.gif", person_frames(3, (64, 48)))
    (source / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40)
    out = tmp_path / "out"
    result = humanseg("batch", str(source), str(out), "--type", "foreground", "-j", "2", "-q")
    assert result.returncode == 1, result.stderr
    assert "broken.mp4" in result.stderr and "[invalid_video]" in result.stderr
    assert "Traceback" not in result.stderr
    assert "5 done, 1 failed" in result.stderr
    talk = read_clip(out / "talk.webm")
    assert (talk.codec, talk.frames, len(talk.alpha)) == ("vp9", 5, 5)
    assert read_clip(out / "still.webm").frames == 3
    assert sorted(path.name for path in out.glob("photo*.png")) == [
        f"photo{index}.png" for index in range(3)
    ]
    lines = manifest_lines(out / ".humanseg-batch.jsonl")
    assert {line["key"] for line in lines if line["status"] == "done"} == {
        "photo0.jpg",
        "photo1.jpg",
        "photo2.jpg",
        "talk.webm",
        "still.gif",
    }
    again = humanseg("batch", str(source), str(out), "--type", "foreground", "-q")
    assert "0 done, 1 failed, 5 already done" in again.stderr


def test_one_clip_to_a_named_file(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "talk.mp4", person_frames(4, (96, 72)))
    target = tmp_path / "matte.webm"
    result = humanseg("cut", str(clip), "-o", str(target), "--type", "alpha", "-q")
    assert result.returncode == 0, result.stderr
    assert read_clip(target).frames == 4
    wrong = humanseg("cut", str(clip), "-o", str(tmp_path / "m.mov"), "--type", "alpha", "-q")
    assert wrong.returncode == 1 and "[invalid_format]" in wrong.stderr


def test_clips_and_photos_through_a_server(tmp_path: Path, server: str) -> None:
    """With --server, photos go to the segmentation endpoint and clips to the video jobs API."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_clip(inputs / "talk.mp4", person_frames(4, (96, 72)))
    (inputs / "photo.jpg").write_bytes(images.astronaut_jpeg())
    out = tmp_path / "out"
    result = humanseg("batch", str(inputs), str(out), "--server", server, "-q")
    assert result.returncode == 0, result.stderr
    assert read_clip(out / "talk.mp4").frames == 4  # alpha: an H.264 (or VP9) matte video
    assert (out / "photo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {line["status"] for line in manifest_lines(out / ".humanseg-batch.jsonl")} == {"done"}
    visible = sorted(path.name for path in out.rglob("*") if not path.name.startswith("."))
    assert visible == ["photo.png", "talk.mp4"]  # no half-downloaded clip left anywhere


def test_a_clip_from_s3_to_s3(tmp_path: Path, s3_server: str) -> None:
    client = boto3.client("s3", endpoint_url=s3_server, **boto_kwargs())
    clip = write_clip(tmp_path / "talk.mov", person_frames(4, (96, 72)))
    client.put_object(Bucket=BUCKET, Key="clips-in/day1/talk.mov", Body=clip.read_bytes())
    client.put_object(Bucket=BUCKET, Key="clips-in/photo.jpg", Body=images.astronaut_jpeg())
    env = {**AWS_ENV, "HUMANSEG_S3_ENDPOINT_URL": s3_server}
    manifest = tmp_path / "job.jsonl"
    args = ["batch", f"s3://{BUCKET}/clips-in", f"s3://{BUCKET}/clips-out", "--type", "blur"]
    result = humanseg(*args, "--manifest", str(manifest), "-q", env=env)
    assert result.returncode == 0, result.stderr
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix="clips-out/")["Contents"]
    assert sorted(item["Key"] for item in listed) == [
        "clips-out/day1/talk.mp4",
        "clips-out/photo.png",
    ]
    stored = client.get_object(Bucket=BUCKET, Key="clips-out/day1/talk.mp4")
    assert stored["ContentType"] == "video/mp4"
    (tmp_path / "back.mp4").write_bytes(stored["Body"].read())
    assert read_clip(tmp_path / "back.mp4").frames == 4
    small = humanseg(
        *args,
        "--manifest",
        str(manifest),
        "--overwrite",
        "-q",
        env={**env, "HUMANSEG_VIDEO_MAX_BYTES": "1000"},
    )
    assert small.returncode == 1 and "[video_too_large]" in small.stderr
