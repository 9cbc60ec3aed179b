"""Folders and ``s3://bucket/prefix`` "folders": where a job reads images and writes results.

Keys are relative, ``/``-separated paths below the folder or prefix. Writes are atomic: a
reader (or a resumed job) sees either no output or the whole output, never part of one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from humanseg.errors import ErrorCode, error
from humanseg.fileio import check_key, is_input_name, path_inside, write_atomic
from humanseg.settings import SourceSettings
from humanseg.sources.s3 import check_s3_key

TEMP_DIR = ".humanseg-tmp"  # local partial writes live here, on the output's filesystem


def walk_images(folder: Path, *, skip: Path | None = None) -> Iterator[str]:
    """Keys of the image and video files below ``folder``, sorted, without ``skip``'s subtree.

    Hidden files and hidden folders (a name starting with ``.``) are never read: they hold
    tools' state (``.git``, the manifest, partial writes), not photos.
    """
    skipped = skip.resolve() if skip is not None else None
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and (skipped is None or (root_path / d).resolve() != skipped)
        )
        relative = root_path.relative_to(folder)
        for name in sorted(files):
            if not name.startswith(".") and is_input_name(name):
                yield (relative / name).as_posix()


@dataclass(frozen=True)
class LocalFolder:
    root: Path

    def __str__(self) -> str:
        return str(self.root)

    def name_of(self, key: str) -> str:
        return str(self.root / key)

    def list_keys(self, settings: SourceSettings, *, skip: str | None = None) -> Iterator[str]:
        """Image and video files below the folder (``walk_images``), without ``skip``."""
        if not self.root.is_dir():
            raise error(ErrorCode.INVALID_REQUEST, f"The folder {str(self.root)!r} does not exist.")
        yield from walk_images(self.root, skip=self.root / skip if skip else None)

    def read(self, key: str, settings: SourceSettings) -> bytes:
        return path_inside(self.root, key).read_bytes()

    def write(self, key: str, data: bytes, media_type: str, settings: SourceSettings) -> None:
        """Write a temporary file, fsync it, then rename it over the target in one step."""
        target = path_inside(self.root, key)
        write_atomic(target, data, temp_dir=self.root / TEMP_DIR, durable=True)

    def scratch(self) -> Path:
        """Where a video is rendered before ``write_file`` moves it: this filesystem."""
        folder = self.root / TEMP_DIR
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write_file(self, key: str, path: Path, media_type: str, settings: SourceSettings) -> None:
        """Move a finished file from ``scratch()`` over the target in one step."""
        target = path_inside(self.root, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(path, target)

    def clean_temporaries(self) -> None:
        """Remove partial files left by workers that died mid-write (call when none is running)."""
        shutil.rmtree(self.root / TEMP_DIR, ignore_errors=True)


@dataclass(frozen=True)
class S3Prefix:
    bucket: str
    prefix: str  # "" or ending in "/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def name_of(self, key: str) -> str:
        return f"{self}{key}"

    def list_keys(self, settings: SourceSettings, *, skip: str | None = None) -> Iterator[str]:
        """Image and video objects below the prefix, in S3's (lexicographic) order,
        without ``skip``."""
        paginator = _s3(settings).get_paginator("list_objects_v2")
        with _s3_errors(str(self)):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    key = item["Key"][len(self.prefix) :]
                    if skip and key.startswith(skip):
                        continue
                    if key and not key.endswith("/") and is_input_name(key):
                        yield key

    def read(self, key: str, settings: SourceSettings) -> bytes:
        from humanseg.sources.s3 import fetch_s3

        return fetch_s3(f"s3://{self.bucket}/{quote(self.prefix + check_key(key))}", settings)

    def write(self, key: str, data: bytes, media_type: str, settings: SourceSettings) -> None:
        """One PUT of the finished bytes: S3 shows the object whole or not at all."""
        check_key(key)  # a store or proxy that normalises `..` would write outside the prefix
        with _s3_errors(f"s3://{self.bucket}/{self.prefix}{key}"):
            _s3(settings).put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=media_type
            )

    def scratch(self) -> Path | None:
        return None  # the system's temporary folder

    def write_file(self, key: str, path: Path, media_type: str, settings: SourceSettings) -> None:
        """One upload of the finished file: S3 shows the object whole or not at all."""
        check_key(key)
        with _s3_errors(f"s3://{self.bucket}/{self.prefix}{key}"), path.open("rb") as file:
            _s3(settings).put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=file, ContentType=media_type
            )

    def clean_temporaries(self) -> None:
        pass  # nothing partial is ever stored


Location = LocalFolder | S3Prefix


def is_s3(location: str) -> bool:
    return location.lower().startswith("s3://")


def open_location(location: str) -> Location:
    """A local folder, or ``s3://bucket`` / ``s3://bucket/prefix`` (a "folder" of keys)."""
    if is_s3(location):
        parts = urlsplit(location)
        if not parts.netloc:
            raise error(
                ErrorCode.INVALID_URL, f"{location!r} is not of the form s3://bucket/prefix."
            )
        prefix = parts.path.strip("/")
        if prefix:
            check_s3_key(unquote(prefix), location)
        return S3Prefix(parts.netloc, f"{prefix}/" if prefix else "")
    if "://" in location:
        raise error(
            ErrorCode.INVALID_URL, f"{location!r}: use a local folder or s3://bucket/prefix."
        )
    return LocalFolder(Path(location).expanduser().resolve())


def nested_prefix(source: Location, destination: Location) -> str | None:
    """Where ``destination`` lies inside ``source``, as a key prefix ("" if it is the source),
    so that earlier outputs are never read as inputs; None if it lies elsewhere."""
    if isinstance(source, LocalFolder) and isinstance(destination, LocalFolder):
        if not destination.root.is_relative_to(source.root):
            return None
        relative = destination.root.relative_to(source.root).as_posix()
        return "" if relative == "." else f"{relative}/"
    if (
        isinstance(source, S3Prefix)
        and isinstance(destination, S3Prefix)
        and source.bucket == destination.bucket
        and destination.prefix.startswith(source.prefix)
    ):
        return destination.prefix[len(source.prefix) :]
    return None


def _s3(settings: SourceSettings) -> Any:
    from humanseg.sources.s3 import _client  # one client per endpoint, shared with sources

    return _client(settings.s3_endpoint_url)


@contextmanager
def _s3_errors(where: str) -> Iterator[None]:
    """botocore failures → ``fetch_failed`` / ``fetch_timeout``, naming the location."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        ReadTimeoutError,
    )

    try:
        yield
    except (ConnectTimeoutError, ReadTimeoutError):
        raise error(ErrorCode.FETCH_TIMEOUT, f"S3 did not answer in time for {where}.") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "") or "an error"
        raise error(ErrorCode.FETCH_FAILED, f"S3 answered {code} for {where}.") from None
    except BotoCoreError as exc:
        raise error(ErrorCode.FETCH_FAILED, f"S3 failed for {where}: {exc}.") from None
