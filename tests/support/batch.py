"""Shared by the batch tests: input folders of real photos, and checks that outputs are whole."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support import images


def photo_set(count: int, *, start: int = 0) -> dict[str, bytes]:
    """``count`` JPEGs of the astronaut at slightly different sizes (keys in a subfolder too)."""
    base = images.astronaut()
    photos = {}
    for index in range(start, start + count):
        side = 200 + (index % 7) * 24
        folder = "group/" if index % 3 == 0 else ""
        photos[f"{folder}p{index:03d}.jpg"] = images.encode(base.resize((side, side)), "JPEG")
    return photos


def write_folder(root: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)


def check_output(key: str, png: bytes, source: bytes, *, mode: str = "L") -> None:
    """A whole PNG of the input's size whose matte finds the person."""
    output = Image.open(io.BytesIO(png))
    assert output.format == "PNG", key
    output.load()  # a truncated file fails here
    assert output.mode == mode, key
    assert output.size == Image.open(io.BytesIO(source)).size, key
    alpha = np.asarray(output.getchannel("A") if mode == "RGBA" else output)
    head, corners = images.person_region_alpha(alpha)
    assert head > 0.8 and corners < 0.2, (key, head, corners)


def manifest_lines(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_files(root: Path, pattern: str, *, at_least: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = len(list(root.glob(pattern))) if root.exists() else 0
        if found >= at_least:
            return found
        time.sleep(0.02)
    raise TimeoutError(f"fewer than {at_least} {pattern} in {root} after {timeout} s")


def processes(*, parent: int | None = None, cmdline_has: str) -> list[int]:
    """Live processes (Linux /proc) whose command line contains a string, optionally by parent."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if cmdline_has in cmdline and (parent is None or ppid == parent):
            found.append(int(entry.name))
    return found


def wait_for_processes(*, timeout: float, **match: object) -> list[int]:
    """The processes ``processes(**match)`` finds, once there is at least one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = processes(**match)  # type: ignore[arg-type]
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(f"no process matching {match} after {timeout} s")


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
