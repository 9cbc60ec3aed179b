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


def upsample_probability(probability: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Probability map to ``size`` = (width, height), bilinear, kept as float32."""
    probability = np.asarray(probability, dtype=np.float32)
    if probability.shape == (size[1], size[0]):
        return probability.copy()
    image = Image.fromarray(probability, "F").resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32).copy()


def to_uint8(probability: np.ndarray) -> np.ndarray:
    return np.round(np.clip(probability, 0.0, 1.0) * 255.0).astype(np.uint8)


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a square of side 2·radius+1 (separable running maximum)."""
    window = 2 * radius + 1
    out = np.pad(mask, radius, constant_values=False)
    out = np.lib.stride_tricks.sliding_window_view(out, window, axis=0).any(axis=-1)
    return np.lib.stride_tricks.sliding_window_view(out, window, axis=1).any(axis=-1)
