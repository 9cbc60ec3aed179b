"""The record of a batch job: one JSON line per finished key, ``done`` or ``failed``.

Append-only. Each line is flushed to the operating system as it is recorded, so a crash of the
job loses at most the line being written; the file is fsynced at most every ``FSYNC_INTERVAL``
seconds (and on close), so a crash of the whole machine loses at most that much more. (An fsync
per line caps a driver at a few hundred keys per second on ordinary disks.) A torn last line is
ignored when the file is read back, and an output is always written before its line, so a key
whose line was lost is simply done again.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Literal

Status = Literal["done", "failed"]
FSYNC_INTERVAL = 0.2


@dataclass(frozen=True)
class Entry:
    key: str
    status: Status
    output: str | None = None
    code: str | None = None
    message: str | None = None
    confidence: float | None = None  # the pipeline's own estimate of the result, in [0, 1]


class Manifest:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()
        self.failed: dict[str, Entry] = {}
        self._file: IO[str] | None = None
        self._synced_at = 0.0
        self._read()

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8", errors="replace") as file:
            for line in file:
                try:
                    entry = Entry(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line torn by a crash
                self._remember(entry)

    def _remember(self, entry: Entry) -> None:
        if entry.status == "done":
            self.done.add(entry.key)
            self.failed.pop(entry.key, None)
        else:
            self.done.discard(entry.key)
            self.failed[entry.key] = entry

    def record(self, entry: Entry) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
            if self._file.tell() and not _ends_with_newline(self.path):
                self._file.write("\n")  # never glue a new line onto a torn one
        fields = {name: value for name, value in asdict(entry).items() if value is not None}
        self._file.write(json.dumps(fields, ensure_ascii=False) + "\n")
        self._file.flush()
        now = time.monotonic()
        if now - self._synced_at >= FSYNC_INTERVAL:
            os.fsync(self._file.fileno())
            self._synced_at = now
        self._remember(entry)

    def close(self) -> None:
        if self._file is not None:
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"
