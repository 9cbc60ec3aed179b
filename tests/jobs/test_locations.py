"""Keys that would leave a destination folder or prefix are refused, never written."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from humanseg.errors import HumansegError
from humanseg.fileio import check_key, path_inside
from humanseg.jobs.locations import LocalFolder, open_location
from humanseg.settings import SourceSettings
from humanseg.sources.s3 import parse_s3_url
from tests.support import images
from tests.support.cli import humanseg
from tests.support.s3 import AWS_ENV, BUCKET, boto_kwargs

BAD_KEYS = [
    "../escape.png",
    "ok/../../escape.png",
    "/home/user/abs.png",
    "a\\..\\b.png",
    "a\0b.png",
    "C:/Windows/x.png",
    "c:x.png",
    "a/./b.png",
    "",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(HumansegError) as caught:
        check_key(key)
    assert caught.value.code == "unsafe_path"


@pytest.mark.parametrize("key", ["a.png", "people/a b.png", "x/y/..z.png", "...png"])
def test_ordinary_keys_pass(key: str) -> None:
    assert check_key(key) == key


def test_local_sink_writes_nothing_outside(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    storage = LocalFolder(root)
    for key in BAD_KEYS:
        with pytest.raises(HumansegError):
            storage.write(key, b"x", "image/png", SourceSettings())
    (root / "link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(HumansegError) as caught:
        path_inside(root, "link/escape.png")
    assert "symbolic link" in caught.value.message
    storage.write("fine/a.png", b"x", "image/png", SourceSettings())
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert written == ["out/fine/a.png"]


@pytest.mark.parametrize(
    "url",
    [
        "s3://allowed/../secret/a.jpg",
        "s3://allowed/%2e%2e/secret/a.jpg",
        "s3://allowed/..%2fsecret/a.jpg",
        "s3://allowed/a/%2E%2E/%2e%2E/secret/a.jpg",
        "s3://allowed/./a.jpg",
    ],
)
def test_s3_urls_with_dot_segments_are_refused(url: str) -> None:
    with pytest.raises(HumansegError) as caught:
        parse_s3_url(url)
    assert caught.value.code == "invalid_url"
    with pytest.raises(HumansegError):
        open_location(url.rsplit("/", 1)[0])


def test_s3_batch_cannot_write_outside_its_destination(tmp_path: Path, s3_server: str) -> None:
    """A source bucket whose keys climb out of the destination: each key fails, with its
    reason in the manifest and the summary; the honest key is done; nothing lands outside."""
    client = boto3.client("s3", endpoint_url=s3_server, **boto_kwargs())
    photo = images.astronaut_jpeg()
    outside = tmp_path / "home"
    outside.mkdir()
    evil = [
        "evil/ok/../../escape1.jpg",
        "evil/../../../../escape2.jpg",
        "evil/" + str(outside / "abs.jpg"),  # "evil//tmp/...": an absolute key
        "evil/back\\..\\..\\escape3.jpg",
    ]
    for key in [*evil, "evil/good.jpg"]:
        client.put_object(Bucket=BUCKET, Key=key, Body=photo)
    listed = {
        item["Key"] for item in client.list_objects_v2(Bucket=BUCKET, Prefix="evil/")["Contents"]
    }
    assert set(evil) <= listed  # the store keeps the keys as given
    destination = tmp_path / "work" / "out"
    env = {**AWS_ENV, "HUMANSEG_S3_ENDPOINT_URL": s3_server}
    result = humanseg("batch", f"s3://{BUCKET}/evil", str(destination), "--workers", "1", env=env)
    assert result.returncode == 1, result.stderr
    assert "1 done, 4 failed" in result.stderr, result.stderr
    assert result.stderr.count("error [unsafe_path]: ") == 4
    assert "Traceback" not in result.stderr
    pngs = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert pngs == ["work/out/good.png"]
    lines = [
        json.loads(line)
        for line in (destination / ".humanseg-batch.jsonl").read_text().splitlines()
    ]
    failed = {line["key"]: line for line in lines if line["status"] == "failed"}
    assert len(failed) == 4
    assert all(line["code"] == "unsafe_path" and line["message"] for line in failed.values())
