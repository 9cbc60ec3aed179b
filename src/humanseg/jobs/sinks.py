"""Where results go: a folder or ``s3://`` prefix (``locations``), one named file, or stdout."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from humanseg.fileio import is_input_name, write_atomic
from humanseg.jobs.locations import LocalFolder, Location, S3Prefix, open_location
from humanseg.jobs.naming import FORMAT_BY_SUFFIX
from humanseg.settings import SourceSettings

MANIFEST_NAME = ".humanseg-batch.jsonl"


@dataclass(frozen=True)
class OutputFile:
    """A single input's result, at a name the user chose."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)

    def name_of(self, key: str) -> str:
        return str(self.path)

    def write(self, key: str, data: bytes, media_type: str, settings: SourceSettings) -> None:
        write_atomic(self.path, data)

    def scratch(self) -> Path:
        """Where a video is rendered: next to the target, so the move is a rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self.path.parent

    def write_file(self, key: str, path: Path, media_type: str, settings: SourceSettings) -> None:
        os.replace(path, self.path)

    def clean_temporaries(self) -> None:
        pass  # write_atomic removes its temporary file itself


@dataclass(frozen=True)
class Stdout:
    """A single input's result on standard output (run in this process only)."""

    def __str__(self) -> str:
        return "-"

    def name_of(self, key: str) -> str:
        return "-"

    def write(self, key: str, data: bytes, media_type: str, settings: SourceSettings) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    def scratch(self) -> Path | None:
        return None

    def write_file(self, key: str, path: Path, media_type: str, settings: SourceSettings) -> None:
        with path.open("rb") as file:
            shutil.copyfileobj(file, sys.stdout.buffer)
        sys.stdout.buffer.flush()

    def clean_temporaries(self) -> None:
        pass


Sink = LocalFolder | S3Prefix | OutputFile | Stdout


def open_sink(destination: str, *, single_file: bool) -> Sink:
    """``-``: stdout; a name with an image or video suffix for a single input: that file;
    else a folder or ``s3://bucket/prefix``."""
    if destination == "-":
        return Stdout()
    path = Path(destination).expanduser()
    named = path.suffix.lower() in FORMAT_BY_SUFFIX or is_input_name(path)
    if single_file and named and not path.is_dir() and "://" not in destination:
        return OutputFile(path)
    return open_location(destination)


def default_manifest(sink: Location) -> Path:
    """Next to the outputs for a folder; in the working folder for S3."""
    if isinstance(sink, LocalFolder):
        return sink.root / MANIFEST_NAME
    digest = hashlib.sha256(str(sink).encode()).hexdigest()[:12]
    return Path.cwd() / f".humanseg-batch-{digest}.jsonl"
