"""Foreground colour error in the soft region: estimated colours vs plain "photo + alpha".

    .venv/bin/python bench/foreground_quality.py

Uses the synthetic case of tests/core/test_matting.py (a known foreground colour and hair-like
alpha composited on two different backgrounds), so the truth is known exactly.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from test_matting import backgrounds, synthetic_foreground

from humanseg import matting


def main() -> None:
    foreground, alpha8 = synthetic_foreground()
    a = alpha8.astype(np.float32)[..., None] / 255
    soft = (alpha8 > 12) & (alpha8 < 243)
    print(f"soft pixels: {soft.sum()} of {soft.size}")
    print(f"{'background':<12} {'photo+alpha':>12} {'estimated':>10} {'ratio':>6} {'ms':>6}")
    for name, background in zip(("smooth sky", "noisy grass"), backgrounds(), strict=True):
        photo = np.round((a * foreground + (1 - a) * background) * 255).astype(np.uint8)
        plain = np.abs(photo / 255 - foreground)[soft].mean()
        start = time.perf_counter()
        estimated = matting.estimate_foreground(photo, alpha8)
        ms = (time.perf_counter() - start) * 1000
        error = np.abs(estimated / 255 - foreground)[soft].mean()
        print(f"{name:<12} {plain:>12.4f} {error:>10.4f} {error / plain:>6.3f} {ms:>6.0f}")


if __name__ == "__main__":
    main()
