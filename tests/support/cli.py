"""The `humanseg` command, run as a user runs it: a separate process."""

from __future__ import annotations

import os
import subprocess
import sys


def humanseg(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humanseg", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
