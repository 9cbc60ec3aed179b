"""Files shared by `cut` and `batch`: which names are images, and writes that are all-or-nothing."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path, PurePath

from humanseg.errors import ErrorCode, error

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp"})


# Clips a job takes by their suffix. A GIF is always a clip (a still one has one frame): the
# image decoder does not take GIF.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".gif"})


def is_image_name(name: str | PurePath) -> bool:
    return PurePath(name).suffix.lower() in IMAGE_SUFFIXES


def is_video_name(name: str | PurePath) -> bool:
    return PurePath(name).suffix.lower() in VIDEO_SUFFIXES


def is_input_name(name: str | PurePath) -> bool:
    """An image or a clip, by its suffix: what a job reads from a folder or prefix."""
    return is_image_name(name) or is_video_name(name)


def write_atomic(
    target: Path, data: bytes, *, temp_dir: Path | None = None, durable: bool = False
) -> None:
    """Write via a temporary file and a rename: readers see no file or the whole file.

    ``temp_dir`` must be on the target's filesystem (default: the target's folder). With
    ``durable``, the data is fsynced before the rename, so it survives a machine crash too.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = temp_dir or target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide outputs from others
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_DRIVE = re.compile(r"^[A-Za-z]:")


def check_key(key: str) -> str:
    """``key`` if it is a relative ``/``-separated path that stays below its folder.

    Refused (``unsafe_path``): empty keys, absolute paths, ``..`` segments, backslashes, NUL
    and other control characters, and drive letters, because a key may come from someone else
    (a bucket's object names) and must never address a file outside the destination.
    """
    problem = _key_problem(key)
    if problem:
        raise error(ErrorCode.UNSAFE_PATH, f"The key {key[:200]!r} {problem}; it is not processed.")
    return key


def _key_problem(key: str) -> str | None:
    if not key:
        return "is empty"
    if "\\" in key:
        return "contains a backslash"
    if any(ord(char) < 32 or ord(char) == 127 for char in key):
        return "contains a NUL or another control character"
    if key.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(key):
        return "starts with a drive letter"
    if any(part in ("..", ".") for part in key.split("/")):
        return "has a '.' or '..' segment"
    return None


def path_inside(root: Path, key: str) -> Path:
    """The file ``key`` names below ``root``; ``unsafe_path`` if it would leave ``root``
    (a bad key, or a symbolic link inside ``root`` that points elsewhere)."""
    path = root / check_key(key)
    base = root.resolve()
    if not path.resolve().is_relative_to(base):
        raise error(
            ErrorCode.UNSAFE_PATH,
            f"The key {key[:200]!r} resolves outside {str(root)!r} (through a symbolic link); "
            "it is not processed.",
        )
    return path
