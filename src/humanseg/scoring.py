"""Scores of a predicted matte against a reference mask (IoU, MAD, boundary F): pure functions.

Both arrays are uint8 (0 = background, 255 = person) of the same shape. A pixel counts as
person when its value is at least 128 (probability 0.5).
"""

from __future__ import annotations

import numpy as np

BOUNDARY_TOLERANCE_PX = 3


def binary(matte: np.ndarray) -> np.ndarray:
    return np.asarray(matte) >= 128


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of the two masks at 0.5; 1.0 when both are empty."""
    p, t = binary(pred), binary(truth)
    union = np.logical_or(p, t).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(p, t).sum() / union)


def mad(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute difference, in [0, 1]."""
    diff = np.abs(np.asarray(pred, dtype=np.int16) - np.asarray(truth, dtype=np.int16))
    return float(diff.mean() / 255.0)


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (the image border counts as outside)."""
    padded = np.pad(mask, 1, constant_values=False)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & mask
    return mask & ~inner


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a disk of ``radius`` pixels."""
    if radius <= 0:
        return mask.copy()
    height, width = mask.shape
    padded = np.pad(mask, radius, constant_values=False)
    out = np.zeros_like(mask)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius:
                out |= padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width]
    return out


def boundary_f(
    pred: np.ndarray, truth: np.ndarray, tolerance: int = BOUNDARY_TOLERANCE_PX
) -> float:
    """F-score of the two masks' boundaries, matching pixels up to ``tolerance`` px apart.

    1.0 when both masks are empty; 0.0 when only one is.
    """
    p, t = boundary(binary(pred)), boundary(binary(truth))
    p_count, t_count = int(p.sum()), int(t.sum())
    if p_count == 0 and t_count == 0:
        return 1.0
    if p_count == 0 or t_count == 0:
        return 0.0
    precision = (p & dilate(t, tolerance)).sum() / p_count
    recall = (t & dilate(p, tolerance)).sum() / t_count
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))
