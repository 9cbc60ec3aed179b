"""`humanseg batch` with the local process pool: folders, S3, resuming, a killed worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.support import images
from tests.support.batch import (
    check_output,
    kill,
    manifest_lines,
    photo_set,
    wait_for_files,
    wait_for_processes,
    write_folder,
)
from tests.support.cli import humanseg
from tests.support.s3 import AWS_ENV, BUCKET, boto_kwargs

pytestmark = pytest.mark.slow  # every test here starts processes (servers, CLIs or a browser)


def test_folder_to_folder_records_failures_and_resumes(tmp_path: Path) -> None:
    source, destination = tmp_path / "in", tmp_path / "out"
    photos = photo_set(9)
    write_folder(source, {**photos, "broken.jpg": b"\xff\xd8 not really a jpeg", "notes.txt": b"x"})

    first = humanseg("batch", str(source), str(destination), "--workers", "2")
    assert first.returncode == 1, first.stderr  # one image failed
    assert "9 done, 1 failed, 0 already done (of 10 images)" in first.stderr
    assert "100%" in first.stderr  # the progress bar reached the end
    assert "Traceback" not in first.stderr
    for key, data in photos.items():
        check_output(key, (destination / key).with_suffix(".png").read_bytes(), data)
    assert not (destination / "notes.png").exists()
    assert not (destination / ".humanseg-tmp").exists()
    lines = manifest_lines(destination / ".humanseg-batch.jsonl")
    assert sorted(line["key"] for line in lines if line["status"] == "done") == sorted(photos)
    for line in lines:  # each result carries the pipeline's own estimate of its quality
        if line["status"] == "done":
            assert 0.0 <= line["confidence"] <= 1.0
    [failed] = [line for line in lines if line["status"] == "failed"]
    assert failed["key"] == "broken.jpg" and failed["code"] in (
        "invalid_image",
        "unsupported_format",
    )

    # A re-run skips what is done: new photos are processed, old outputs are left untouched.
    mtimes = {path: path.stat().st_mtime_ns for path in destination.rglob("*.png")}
    (source / "broken.jpg").unlink()
    more = photo_set(3, start=20)
    write_folder(source, more)
    second = humanseg("batch", str(source), str(destination), "--workers", "1")
    assert second.returncode == 0, second.stderr
    assert "3 done, 0 failed, 9 already done (of 12 images)" in second.stderr
    assert {path: path.stat().st_mtime_ns for path in mtimes} == mtimes
    for key, data in more.items():
        check_output(key, (destination / key).with_suffix(".png").read_bytes(), data)

    third = humanseg("batch", str(source), str(destination), "--workers", "1", "--overwrite")
    assert third.returncode == 0 and "12 done, 0 failed, 0 already done" in third.stderr


def test_colliding_outputs_and_bad_locations_fail_clearly(tmp_path: Path) -> None:
    source = tmp_path / "in"
    jpeg = images.astronaut_jpeg()
    write_folder(source, {"a.jpg": jpeg, "a.png": images.encode(images.astronaut(), "PNG")})
    result = humanseg("batch", str(source), str(tmp_path / "out"))
    assert result.returncode == 1
    lines = manifest_lines(tmp_path / "out" / ".humanseg-batch.jsonl")
    assert {line["key"] for line in lines} == {"a.jpg", "a.png"}
    assert all("would all be written to a.png" in line["message"] for line in lines)

    same = humanseg("batch", str(source), str(source))
    assert same.returncode == 1 and "error [invalid_request]" in same.stderr
    missing = humanseg("batch", str(tmp_path / "nope"), str(tmp_path / "out"))
    assert missing.returncode == 1 and "error [invalid_request]" in missing.stderr
    assert "Traceback" not in missing.stderr
    scheme = humanseg("batch", "ftp://host/x", str(tmp_path / "out"))
    assert scheme.returncode == 1 and "error [invalid_url]" in scheme.stderr


def test_s3_to_s3_foreground(tmp_path: Path, s3_server: str) -> None:
    client = boto3.client("s3", endpoint_url=s3_server, **boto_kwargs())
    photos = photo_set(5)
    for key, data in photos.items():
        client.put_object(Bucket=BUCKET, Key=f"batch-in/{key}", Body=data)
    client.put_object(Bucket=BUCKET, Key="batch-in-other/x.jpg", Body=images.astronaut_jpeg())
    env = {**AWS_ENV, "HUMANSEG_S3_ENDPOINT_URL": s3_server}
    manifest = tmp_path / "job.jsonl"
    args = ["batch", f"s3://{BUCKET}/batch-in", f"s3://{BUCKET}/batch-out/", "--type", "foreground"]
    result = humanseg(*args, "--workers", "2", "--manifest", str(manifest), env=env)
    assert result.returncode == 0, result.stderr
    assert "5 done, 0 failed, 0 already done (of 5 images)" in result.stderr
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix="batch-out/")["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(
        f"batch-out/{key[:-4]}.png" for key in photos
    )
    for key, data in photos.items():
        body = client.get_object(Bucket=BUCKET, Key=f"batch-out/{key[:-4]}.png")["Body"].read()
        check_output(key, body, data, mode="RGBA")
    again = humanseg(*args, "--manifest", str(manifest), env=env)
    assert again.returncode == 0 and "0 done, 0 failed, 5 already done" in again.stderr


def test_killed_worker_loses_nothing(tmp_path: Path) -> None:
    """Kill a worker while the job runs; the final state is judged, not the moment of the kill."""
    source, destination = tmp_path / "in", tmp_path / "out"
    photos = photo_set(80)
    write_folder(source, photos)
    command = [sys.executable, "-m", "humanseg", "batch", str(source), str(destination)]
    job = subprocess.Popen(
        [*command, "--workers", "2", "--type", "foreground"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_files(destination, "**/*.png", at_least=1, timeout=120)  # workers are busy
        workers = wait_for_processes(parent=job.pid, cmdline_has="spawn_main", timeout=60)
        kill(workers[0])
        _, stderr = job.communicate(timeout=240)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert not os.path.exists(f"/proc/{workers[0]}")
    assert job.returncode == 0, stderr
    assert f"{len(photos)} done, 0 failed" in stderr
    assert "a worker process died" in stderr  # noticed, and its images queued again
    for key, data in photos.items():
        check_output(key, (destination / key).with_suffix(".png").read_bytes(), data, mode="RGBA")
    assert not (destination / ".humanseg-tmp").exists()
    done = {line["key"] for line in manifest_lines(destination / ".humanseg-batch.jsonl")}
    assert done == set(photos)


def test_outputs_inside_the_source_are_not_read_back(tmp_path: Path) -> None:
    photos = photo_set(2)
    write_folder(tmp_path, photos)
    first = humanseg("batch", str(tmp_path), str(tmp_path / "mattes"), "--workers", "1")
    assert first.returncode == 0 and "2 done, 0 failed, 0 already done (of 2" in first.stderr
    again = humanseg("batch", str(tmp_path), str(tmp_path / "mattes"), "--workers", "1")
    assert again.returncode == 0 and "0 done, 0 failed, 2 already done (of 2" in again.stderr
    assert not (tmp_path / "mattes" / "mattes").exists()


def test_help_shows_batch_and_ray_flags() -> None:
    batch_help = humanseg("batch", "--help").stdout
    for flag in ("--type", "--workers", "--ray", "--overwrite", "--manifest"):
        assert flag in batch_help
    serve_help = humanseg("serve", "--help").stdout
    assert "--ray " in serve_help and "--ray-max-replicas" in serve_help


@pytest.mark.parametrize("location", ["s3://", "s3:///prefix"])
def test_s3_location_needs_a_bucket(location: str, tmp_path: Path) -> None:
    result = humanseg("batch", location, str(tmp_path / "out"))
    assert result.returncode == 1 and "error [invalid_url]" in result.stderr


def test_batch_from_s3_through_a_server(tmp_path: Path, s3_server: str, server: str) -> None:
    """What was only `cut`'s (a server does the work) with what was only `batch`'s (S3, the
    manifest): one engine, so both commands have both."""
    env = {**AWS_ENV, "HUMANSEG_S3_ENDPOINT_URL": s3_server}
    destination = tmp_path / "out"
    args = ["batch", f"s3://{BUCKET}/people", str(destination), "--server", server]
    result = humanseg(*args, "--type", "foreground", env=env)
    assert result.returncode == 0, result.stderr
    assert "1 done, 0 failed, 0 already done (of 1 images)" in result.stderr
    check_output(
        "astronaut.jpg",
        (destination / "astronaut.png").read_bytes(),
        images.astronaut_jpeg(),
        mode="RGBA",
    )
    [line] = manifest_lines(destination / ".humanseg-batch.jsonl")
    assert line["key"] == "astronaut.jpg" and line["status"] == "done"
    again = humanseg(*args, env=env)
    assert again.returncode == 0 and "0 done, 0 failed, 1 already done" in again.stderr
