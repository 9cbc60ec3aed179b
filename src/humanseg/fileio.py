"""Files shared by `cut` and `batch`: which names are images, and writes that are all-or-nothing."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePath

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp"})


def is_image_name(name: str | PurePath) -> bool:
    return PurePath(name).suffix.lower() in IMAGE_SUFFIXES


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
