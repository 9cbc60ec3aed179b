"""A learned edge step: where, near the fused outline, is the person? Pure functions.

The fused matte's outline comes from maps of 256–320 px, averaged. Close to it, a pixel's
colour says more: like the colour just inside (the person) or just outside (the
background)? Hand-tuned colour steps (a guided filter, GrabCut, closed-form mattes) pull the
outline in where the background continues and lose where it does not; this step weighs the
cues by logistic regression instead, fitted by ``humanseg eval`` on the dev photos (k-fold:
on the folds a photo is not in), with the members' maps among them, so it learns when the
colour is worth trusting. Only pixels within ``EdgeModel.band`` map pixels of the outline
change.

The features of one pixel: the fused value and the members' mean, each member's own map, its
signed distance to the outline, its colour (brightness and two colour differences), and for
two window sizes the mean colour of the sure person and the sure background near it (its
projection between the two, its distance to each, and theirs to each other), and the
brightness gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

# the windows (half-sides, map pixels) over which the sure colours near a pixel are averaged
WINDOWS = (5, 15)
# above / below these, the fused map is sure: person / background
SURE_PERSON, SURE_BACKGROUND = 0.98, 0.02


@dataclass(frozen=True)
class EdgeModel:
    """Logistic regression coefficients (the intercept first, then one per feature), for the
    others and for someone standing, seen whole (the person's box at least ``standing_from``
    times as high as wide): the hand-drawn outlines of full-body photos and the smoother ones
    of everyday photos do not lie alike around the models' soft edges."""

    others: tuple[float, ...]
    standing: tuple[float, ...]
    standing_from: float = 2.5
    band: int = 4  # map pixels either side of the outline that the step may change
    gain: float = 4.0  # the result sharpened around 0.5 (binary reference masks)

    def coefficients(self, aspect: float) -> tuple[float, ...]:
        return self.standing if aspect >= self.standing_from else self.others


def feature_count(members: int) -> int:
    return 2 + members + 1 + 3 + 4 * len(WINDOWS) + 1


def band_of(fused: np.ndarray, band: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels within ``band`` of the outline (fused ≥ 0.5, city-block distance), as flat
    indices into the map, and their signed distance to it (positive inside)."""
    person = (fused >= 0.5).astype(np.uint8)
    # city-block distances in 8 bits: a third of the time of Euclidean ones in floats
    inside = cv2.distanceTransform(person, cv2.DIST_L1, 3, dstType=cv2.CV_8U)
    outside = cv2.distanceTransform(1 - person, cv2.DIST_L1, 3, dstType=cv2.CV_8U)
    where = np.flatnonzero(cv2.max(inside, outside) <= band)
    signed = inside.ravel()[where].astype(np.float32) - outside.ravel()[where]
    return where, signed


def features(
    fused: np.ndarray,
    mean: np.ndarray,
    maps: Sequence[np.ndarray],
    colour: np.ndarray,
    where: np.ndarray,
    signed: np.ndarray,
    band: int,
) -> np.ndarray:
    """One row per pixel of ``where`` (flat indices, ``band_of``), float32; ``maps``: each
    member's map over the whole fused map (its mean where it did not look), ``colour``: the
    photo at the map's size. The sure colours are averaged on the map at half its size (the
    windows are wide; a quarter of the pixels)."""
    height, width = fused.shape
    here = _opponent(colour.reshape(-1, 3)[where])
    at = [fused.ravel()[where], mean.ravel()[where], *(m.ravel()[where] for m in maps)]
    columns = [*at, signed * np.float32(1 / band), here[:, 0], here[:, 1], here[:, 2]]
    half = (max(width // 2, 1), max(height // 2, 1))
    small = _opponent(cv2.resize(colour, half, interpolation=cv2.INTER_AREA).reshape(-1, 3))
    ys, xs = np.divmod(where, width)
    at_half = np.minimum(ys // 2, half[1] - 1) * half[0] + np.minimum(xs // 2, half[0] - 1)
    weighted = []
    for mask in (fused >= SURE_PERSON, fused <= SURE_BACKGROUND):
        share = cv2.resize(mask.astype(np.float32), half, interpolation=cv2.INTER_AREA)
        weighted.append((share, small.reshape(half[1], half[0], 3) * share[..., None]))
    for radius in WINDOWS:
        side = (2 * max(radius // 2, 1) + 1,) * 2
        means, found = [], []
        for share, colours in weighted:
            count = cv2.boxFilter(share, -1, side, normalize=False).ravel()[at_half]
            total = cv2.boxFilter(colours, -1, side, normalize=False).reshape(-1, 3)[at_half]
            means.append(total / np.maximum(count, np.float32(1e-3))[:, None])
            found.append(count > 1e-3)
        person, background = means
        both = found[0] & found[1]
        span = person - background
        reach = np.einsum("ij,ij->i", span, span)
        projection = np.einsum("ij,ij->i", here - background, span) / np.maximum(reach, 1e-4)
        near_person, near_background = here - person, here - background
        columns += [
            np.where(both, np.clip(projection, -0.5, 1.5), at[0]),
            np.where(found[0], np.sqrt(np.einsum("ij,ij->i", near_person, near_person)), 1.0),
            np.where(
                found[1], np.sqrt(np.einsum("ij,ij->i", near_background, near_background)), 1.0
            ),
            np.where(both, np.sqrt(reach), 0.0),
        ]
    # the brightness gradient by central differences at these pixels only
    gray = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY).ravel()
    right, left = np.minimum(xs + 1, width - 1), np.maximum(xs - 1, 0)
    down, up = np.minimum(ys + 1, height - 1), np.maximum(ys - 1, 0)
    dx = gray[ys * width + right].astype(np.float32) - gray[ys * width + left]
    dy = gray[down * width + xs].astype(np.float32) - gray[up * width + xs]
    dx *= np.float32(1 / 255)
    dy *= np.float32(1 / 255)
    columns.append(np.sqrt(dx * dx + dy * dy))
    return np.stack(columns, axis=1).astype(np.float32, copy=False)


# brightness and two colour differences (blue and red against it), linear in RGB: cheap at
# any size (OpenCV's CIELAB costs ~1 ms a call in thread wake-ups alone)
_OPPONENT = np.array(
    [[0.299, -0.299, 0.701], [0.587, -0.587, -0.587], [0.114, 0.886, -0.114]], dtype=np.float32
) / np.float32(255)


def _opponent(rgb: np.ndarray) -> np.ndarray:
    """N × 3 uint8 RGB → N × 3 float32 (brightness in [0, 1], colour differences in ±0.9)."""
    return rgb.astype(np.float32) @ _OPPONENT


def refine(
    fused: np.ndarray, rows: np.ndarray, where: np.ndarray, model: EdgeModel, aspect: float
) -> np.ndarray:
    """``fused`` with the pixels ``where`` (flat indices; ``rows``: their features) decided
    again."""
    coefficients = np.asarray(model.coefficients(aspect), dtype=np.float32)
    logit = rows @ coefficients[1:] + coefficients[0]
    probability = 1.0 / (1.0 + np.exp(-logit))
    out = fused.copy()
    out.ravel()[where] = np.clip((probability - 0.5) * model.gain + 0.5, 0.0, 1.0)
    return out


def fit(
    rows: Sequence[np.ndarray], labels: Sequence[np.ndarray], l2: float = 1e-3
) -> tuple[float, ...]:
    """Logistic regression coefficients (intercept first) for these photos' pixels, each photo
    weighing the same (a large photo's outline does not outvote a small one's), by Newton's
    method on standardised features with a small L2 penalty."""
    x = np.concatenate(rows).astype(np.float64)
    y = np.concatenate(labels).astype(np.float64)
    weight = np.concatenate([np.full(len(r), 1.0 / max(len(r), 1)) for r in rows])
    centre, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - centre) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2 * weight.sum())
    penalty[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (weight * (p - y)) + penalty * beta
        hessian = (z * (weight * p * (1.0 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    slopes = beta[1:] / scale
    intercept = beta[0] - float(slopes @ centre)
    return (round(float(intercept), 6), *(round(float(s), 6) for s in slopes))
