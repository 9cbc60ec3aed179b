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

# the windows (half-sides, in cells of the shrunk map) over which the sure colours near a
# pixel are averaged
WINDOWS = (1, 4)
# the sure colours are averaged on the map shrunk this many times (the windows are wide)
STATS_SCALE = 4
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
    band: int = 2  # map pixels either side of the outline that the step may change
    gain: float = 4.0  # the result sharpened around 0.5 (binary reference masks)

    def coefficients(self, aspect: float) -> tuple[float, ...]:
        return self.standing if aspect >= self.standing_from else self.others


def feature_count(members: int) -> int:
    return 2 + members + 1 + 3 + 4 * len(WINDOWS) + 1


def band_of(fused: np.ndarray, band: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels within ``band`` of the outline (fused ≥ 0.5; city-block distance, the
    boundary's own pixels at 1 and -1), as flat indices into the map, and their signed distance
    to it (positive inside). By repeated erosions and dilations with a cross: in 8 bits, a
    fraction of a distance transform's cost."""
    person = (fused >= 0.5).astype(np.uint8)
    inner, outer = [person], [person]
    for _ in range(band):
        inner.append(cv2.erode(inner[-1], _CROSS))
        outer.append(cv2.dilate(outer[-1], _CROSS))
    where = np.flatnonzero(outer[band] > inner[band])
    signed = np.full(where.size, -band, dtype=np.float32)
    for layer in (*inner[:band], *outer[:band]):
        signed += layer.ravel()[where]
    return where, signed


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def features(
    fused: np.ndarray,
    mean: np.ndarray,
    members: Sequence[np.ndarray],
    colour: np.ndarray,
    where: np.ndarray,
    signed: np.ndarray,
    band: int,
) -> np.ndarray:
    """One row per pixel of ``where`` (flat indices, ``band_of``), float32. ``mean`` and
    ``members``: the members' mean and each member's probability at those pixels (the mean
    where it did not look); ``colour``: the photo at the map's size.

    Only a few full-size arrays are made: on a small machine each costs more in fresh memory
    than in arithmetic."""
    height, width = fused.shape
    count = len(where)
    here = _opponent(colour.reshape(-1, 3)[where])
    ys, xs = np.divmod(where, width)
    # the sure person's and the sure background's summed colours and cell counts near each
    # pixel, on the map shrunk STATS_SCALE times (a cell is sure where all of it is)
    small_size = (max(width // STATS_SCALE, 1), max(height // STATS_SCALE, 1))
    small = _opponent(cv2.resize(colour, small_size, interpolation=cv2.INTER_AREA))
    cells = cv2.resize(fused, small_size, interpolation=cv2.INTER_AREA).reshape(-1, 1)
    planes = np.empty((small.shape[0], 8), dtype=np.float32)
    planes[:, 3:4] = cells >= SURE_PERSON
    planes[:, 7:8] = cells <= SURE_BACKGROUND
    planes[:, 0:3] = small * planes[:, 3:4]
    planes[:, 4:7] = small * planes[:, 7:8]
    planes = planes.reshape(small_size[1], small_size[0], 8)
    at_small = np.minimum(ys // STATS_SCALE, small_size[1] - 1) * small_size[0]
    at_small += np.minimum(xs // STATS_SCALE, small_size[0] - 1)
    sums = np.stack(
        [
            cv2.boxFilter(planes, -1, (2 * r + 1, 2 * r + 1), normalize=False).reshape(-1, 8)[
                at_small
            ]
            for r in WINDOWS
        ],
        axis=1,
    ).reshape(count, len(WINDOWS), 2, 4)  # pixel, window, person / background, sums
    found = sums[..., 3] > 0.5
    means = sums[..., :3] / np.maximum(sums[..., 3:], np.float32(1.0))
    person, background = means[:, :, 0], means[:, :, 1]
    span = person - background
    reach = np.einsum("nwc,nwc->nw", span, span)
    towards = here[:, None, :] - background
    projection = np.einsum("nwc,nwc->nw", towards, span) / np.maximum(reach, np.float32(1e-4))
    away = here[:, None, :] - person
    both = found[:, :, 0] & found[:, :, 1]
    fused_here = fused.ravel()[where]
    rows = np.empty((count, feature_count(len(members))), dtype=np.float32)
    rows[:, 0] = fused_here
    rows[:, 1] = mean
    for index, member in enumerate(members, start=2):
        rows[:, index] = member
    column = 2 + len(members)
    rows[:, column] = signed * np.float32(1 / band)
    rows[:, column + 1 : column + 4] = here
    stats = rows[:, column + 4 : column + 4 + 4 * len(WINDOWS)].reshape(count, len(WINDOWS), 4)
    stats[:, :, 0] = np.where(both, np.clip(projection, -0.5, 1.5), fused_here[:, None])
    stats[:, :, 1] = np.where(found[:, :, 0], np.sqrt(np.einsum("nwc,nwc->nw", away, away)), 1)
    stats[:, :, 2] = np.where(
        found[:, :, 1], np.sqrt(np.einsum("nwc,nwc->nw", towards, towards)), 1
    )
    stats[:, :, 3] = np.where(both, np.sqrt(reach), 0)
    # the brightness gradient by central differences at these pixels only
    gray = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY).ravel()
    right, left = np.minimum(xs + 1, width - 1), np.maximum(xs - 1, 0)
    down, up = np.minimum(ys + 1, height - 1), np.maximum(ys - 1, 0)
    dx = gray[ys * width + right].astype(np.float32) - gray[ys * width + left]
    dy = gray[down * width + xs].astype(np.float32) - gray[up * width + xs]
    rows[:, -1] = np.sqrt(dx * dx + dy * dy) * np.float32(1 / 255)
    return rows


def _opponent(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB (an image, or N pixels as N × 3) → float32 brightness and two colour
    differences (OpenCV's YCrCb, in its fast 8-bit path), each in [0, 1], one row per pixel."""
    flat = np.ascontiguousarray(rgb).reshape(1, -1, 3)
    ycrcb = cv2.cvtColor(flat, cv2.COLOR_RGB2YCrCb).reshape(-1, 3).astype(np.float32)
    ycrcb *= np.float32(1 / 255)
    return ycrcb


def refine(
    fused: np.ndarray, rows: np.ndarray, where: np.ndarray, model: EdgeModel, aspect: float
) -> np.ndarray:
    """``fused`` with the pixels ``where`` (flat indices; ``rows``: their features) decided
    again."""
    coefficients = np.asarray(model.coefficients(aspect), dtype=np.float32)
    logit = rows @ coefficients[1:] + coefficients[0]
    probability = _sigmoid(logit)
    out = fused.copy()
    out.ravel()[where] = np.clip((probability - 0.5) * model.gain + 0.5, 0.0, 1.0)
    return out


def fit(
    rows: Sequence[np.ndarray], labels: Sequence[np.ndarray], l2: float = 1e-3
) -> tuple[float, ...]:
    """Logistic regression coefficients (intercept first) for these photos' pixels, each photo
    weighing the same (a large photo's outline does not outvote a small one's), by Newton's
    method on standardised features with a small L2 penalty (so a photo set whose pixels a
    feature separates perfectly, or all on one side, still gets finite coefficients)."""
    x = np.concatenate(rows).astype(np.float64)
    y = np.concatenate(labels).astype(np.float64)
    weight = np.concatenate([np.full(len(r), 1.0 / max(len(r), 1)) for r in rows])
    centre, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - centre) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2 * weight.sum())
    # the intercept barely penalised: enough to stay finite when every pixel is on one side
    penalty[0] *= 1e-3
    for _ in range(50):
        p = _sigmoid(z @ beta)
        gradient = z.T @ (weight * (p - y)) + penalty * beta
        hessian = (z * (weight * p * (1.0 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    slopes = beta[1:] / scale
    intercept = beta[0] - float(slopes @ centre)
    return (round(float(intercept), 6), *(round(float(s), 6) for s in slopes))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without exp's overflow (and its warning) far from 0."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)
