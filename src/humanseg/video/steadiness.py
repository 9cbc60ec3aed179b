"""Flicker: how much a clip's matte changes between frames where the person did not.

Pure functions on arrays. The motion between frames is known (synthetic clips, see
:mod:`humanseg.video.synthetic`): the previous matte is moved by it before comparing, and only
pixels whose true mask stays the same count, so the number measures the matte's own wobble,
not the camera's motion or the person's.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from humanseg import scoring

# A pixel counts as unchanged when its true mask moves by less than this (of 255) between
# frames: the interpolation of a sharp edge under the warp leaves small values on it.
UNCHANGED_TOLERANCE = 8


def _moved(image: np.ndarray, motion: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    return cv2.warpAffine(image, motion[:2], (width, height), flags=cv2.INTER_LINEAR)


def frame_flicker(
    previous_matte: np.ndarray,
    matte: np.ndarray,
    previous_truth: np.ndarray,
    truth: np.ndarray,
    motion: np.ndarray,
) -> float | None:
    """Mean absolute change (0 … 1) of the matte on unchanged pixels; None if none are.

    ``motion`` (3×3) maps the previous frame's coordinates to this frame's.
    """
    inside = _moved(np.full(matte.shape, 255, np.uint8), motion) == 255
    moved_truth = _moved(previous_truth, motion).astype(np.int16)
    unchanged = inside & (np.abs(moved_truth - truth.astype(np.int16)) < UNCHANGED_TOLERANCE)
    if not unchanged.any():
        return None
    moved_matte = _moved(previous_matte, motion).astype(np.int16)
    change = np.abs(moved_matte - matte.astype(np.int16))[unchanged]
    return float(change.mean() / 255.0)


def clip_flicker(
    mattes: Sequence[np.ndarray], truths: Sequence[np.ndarray], warps: Sequence[np.ndarray]
) -> float:
    """The mean frame flicker over a clip; ``warps`` map a fixed scene to each frame."""
    values = []
    for index in range(1, len(mattes)):
        motion = warps[index] @ np.linalg.inv(warps[index - 1])
        value = frame_flicker(
            mattes[index - 1], mattes[index], truths[index - 1], truths[index], motion
        )
        if value is not None:
            values.append(value)
    return float(np.mean(values)) if values else 0.0


def clip_miou(mattes: Sequence[np.ndarray], truths: Sequence[np.ndarray]) -> float:
    """The mean of the per-frame intersection over union."""
    return float(np.mean([scoring.iou(m, t) for m, t in zip(mattes, truths, strict=True)]))
