"""What a job reads: files, folders (recursive), globs, ``s3://`` prefixes or objects, stdin.

Each input becomes items, each with the key its output is named from (its path below the
folder or prefix given, or its file name) and that output's name. Inputs that name nothing,
keys that would leave the destination and inputs that would share an output fail here,
before any work, as manifest entries like any other failure.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.fileio import is_input_name
from humanseg.jobs.locations import (
    LocalFolder,
    Location,
    is_s3,
    nested_prefix,
    open_location,
)
from humanseg.jobs.manifest import Entry
from humanseg.jobs.naming import output_key, split_collisions
from humanseg.jobs.sinks import Sink
from humanseg.outputs import ImageFormat
from humanseg.settings import SourceSettings

_GLOB_CHARS = frozenset("*?[")
STDIN = "-"


@dataclass(frozen=True)
class Item:
    """One image or clip to process: where it is read from and where its result goes."""

    key: str  # below its origin; the output is named from it
    origin: Location | Path | None  # a folder or prefix holding ``key``, one file, or stdin
    output: str = ""  # the result's key below the destination
    data: bytes | None = field(default=None, repr=False)  # stdin's bytes

    @property
    def name(self) -> str:
        """How people know the input: its path or URL."""
        if self.origin is None:
            return STDIN
        if isinstance(self.origin, Path):
            return str(self.origin)
        return self.origin.name_of(self.key)

    def __str__(self) -> str:
        return self.name

    def read(self, settings: SourceSettings) -> bytes:
        if self.origin is None:
            return self.data or b""
        if isinstance(self.origin, Path):
            return self.origin.read_bytes()
        return self.origin.read(self.key, settings)


@dataclass
class Plan:
    items: list[Item]  # to process, each with its output's key
    failed: list[Entry]  # inputs that fail before any work


def stdin_plan(data: bytes, fmt: ImageFormat) -> Plan:
    return Plan([Item("stdin", None, output=output_key("stdin", fmt), data=data)], [])


def plan(
    inputs: Sequence[str],
    destination: Sink,
    settings: SourceSettings,
    fmt: ImageFormat,
    video_suffix: Callable[[], str] | None = None,
) -> Plan:
    """Expand ``inputs`` into items writing below ``destination``: images as ``fmt``, clips
    with ``video_suffix()`` (each clip fails with its reason if that raises).

    A folder or prefix keeps its tree below the destination; a file or glob match lands
    directly in it. The destination is never read back: a folder or prefix below an input
    is left out of it, a glob match inside it is skipped, and an input that is the
    destination is refused.
    """
    found: list[Item] = []
    failed: list[Entry] = []
    for given in inputs:
        try:
            found += _expand(given, destination, settings)
        except HumansegError as exc:
            failed.append(Entry(given, "failed", code=exc.code, message=exc.message))
    named: list[Item] = []
    seen: set[str] = set()
    for item in found:
        if item.name in seen:  # the same file through two inputs
            continue
        seen.add(item.name)
        try:
            named.append(
                Item(item.key, item.origin, output_key(item.key, fmt, video_suffix), item.data)
            )
        except HumansegError as exc:
            failed.append(Entry(item.key, "failed", code=exc.code, message=exc.message))
    unique, colliding = split_collisions(named, lambda item: item.output)
    for item, why in colliding:
        failed.append(Entry(item.key, "failed", code=ErrorCode.INVALID_REQUEST, message=why))
    return Plan(unique, failed)


def _expand(given: str, destination: Sink, settings: SourceSettings) -> list[Item]:
    if is_s3(given):
        return _s3_items(given, destination, settings)
    if "://" in given:
        open_location(given)  # says which locations there are
    path = Path(given)
    if path.is_dir():
        return _folder_items(LocalFolder(path.expanduser().resolve()), destination, settings)
    if path.is_file():
        return [Item(path.name, path.resolve())]
    if _GLOB_CHARS & set(given):
        return _glob_items(given, destination, settings)
    raise error(ErrorCode.INVALID_REQUEST, "No such file or folder.")


def _folder_items(folder: Location, destination: Sink, settings: SourceSettings) -> list[Item]:
    inside = nested_prefix(folder, destination) if isinstance(destination, Location) else None
    if inside == "":
        raise error(
            ErrorCode.INVALID_REQUEST, "The destination is the source; write the results elsewhere."
        )
    return [Item(key, folder) for key in folder.list_keys(settings, skip=inside)]


def _s3_items(given: str, destination: Sink, settings: SourceSettings) -> list[Item]:
    path = unquote(urlsplit(given).path)
    if is_input_name(path) and not path.endswith("/"):  # one object
        key = PurePosixPath(path).name
        parent = open_location(given[: len(given) - len(given.rsplit("/", 1)[1])])
        return [Item(key, parent)]
    return _folder_items(open_location(given), destination, settings)


def _glob_items(pattern: str, destination: Sink, settings: SourceSettings) -> list[Item]:
    matches = sorted(glob.glob(pattern, recursive=True))
    if not matches:
        raise error(ErrorCode.INVALID_REQUEST, "No file matches.")
    out = destination.root if isinstance(destination, LocalFolder) else None
    items: list[Item] = []
    for match in map(Path, matches):
        resolved = match.resolve()
        if out is not None and resolved.is_relative_to(out):
            continue  # an earlier output, matched again
        if match.is_dir():
            items += _folder_items(LocalFolder(resolved), destination, settings)
        elif match.is_file():
            items.append(Item(match.name, resolved))
    return items
