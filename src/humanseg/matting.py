"""From the model's probability map to a full-size 8-bit matte."""

from __future__ import annotations

import numpy as np
from PIL import Image


def upsample_matte(probability: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Probability map (model resolution, [0, 1]) to a uint8 matte of ``size`` = (width, height).

    Bilinear interpolation of the low-resolution map gives smooth edges at any scale
    (no blocks of model pixels).
    """
    small = Image.fromarray(np.round(probability * 255.0).astype(np.uint8), "L")
    if small.size == size:
        return np.asarray(small)
    return np.asarray(small.resize(size, Image.Resampling.BILINEAR))


def apply_own_alpha(matte: np.ndarray, own_alpha: np.ndarray | None) -> np.ndarray:
    """A pixel that was transparent in the input stays transparent in the output."""
    if own_alpha is None:
        return matte
    product = matte.astype(np.uint16) * own_alpha
    return ((product + 127) // 255).astype(np.uint8)
