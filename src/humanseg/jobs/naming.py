"""The one rule for naming outputs, and the one check that two inputs do not share an output.

An output keeps its input's relative path with the suffix of its encoding:
``people/a.jpg`` → ``people/a.png`` (or ``.jpg``/``.webp`` when that is the format asked for);
a clip takes the suffix of its video format: ``talks/b.mov`` → ``talks/b.webm``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from typing import TypeVar

from humanseg.errors import ErrorCode, error
from humanseg.fileio import check_key, is_video_name
from humanseg.outputs import ImageFormat
from humanseg.schema import FORMATS

# An output file name given for a single input picks the encoding by its suffix.
FORMAT_BY_SUFFIX = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}

T = TypeVar("T")


def output_key(
    key: str, fmt: ImageFormat = ImageFormat.PNG, video_suffix: Callable[[], str] | None = None
) -> str:
    """Where ``key``'s result goes; ``unsafe_path`` if ``key`` would leave its folder.

    ``video_suffix()`` gives a clip's suffix, or raises why the job cannot write clips."""
    path = PurePosixPath(check_key(key))
    if is_video_name(path):
        if video_suffix is None:
            raise error(ErrorCode.UNSUPPORTED_FORMAT, "This job takes images only.")
        return str(path.with_suffix(video_suffix()))
    return str(path.with_suffix("." + FORMATS[fmt].extension))


def split_collisions(
    items: Iterable[T], output_of: Callable[[T], str]
) -> tuple[list[T], list[tuple[T, str]]]:
    """Items whose output is their own, and (item, why) for each of a group sharing one.

    Every item of a group fails rather than one overwriting another's result."""
    by_output: dict[str, list[T]] = defaultdict(list)
    for item in items:
        by_output[output_of(item)].append(item)
    unique: list[T] = []
    colliding: list[tuple[T, str]] = []
    for target, group in by_output.items():
        if len(group) == 1:
            unique.append(group[0])
            continue
        names = " and ".join(str(item) for item in group)
        colliding += [
            (item, f"{names} would all be written to {target}; rename one.") for item in group
        ]
    return unique, colliding
