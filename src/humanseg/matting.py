"""From the model's probability map to a full-size 8-bit matte, refined edges and clean colours.

- ``upsample_matte``: the model's low-resolution map to a full-size matte (bilinear).
- ``refine_matte``: edge refinement, a fast guided filter (He & Sun, 2015) steered by the
  full-resolution photo, so the soft band of the coarse matte snaps to the photo's own edges
  (hair, shoulders) instead of the model's 256-px blur.
- ``estimate_foreground``: the foreground colour under semi-transparent pixels, by multi-level
  foreground estimation (Germer et al., ICPR 2020), so the old background does not bleed into
  hair when the cut-out is put on a new background.

Box filters, the per-pixel solves and the multi-level sweeps run at a working resolution
(512 px on the longest side); at full size only the pixels of the edge band are computed, from
coefficients sampled bilinearly, which bounds the cost at 16 MP.
"""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np

from humanseg import imaging

# Guided filter, tuned on the dev set (bench/refine_quality.py) for people in general.
GUIDED_WORK_SIDE = 512  # longest side at which the filter's coefficients are computed
GUIDED_RADIUS = 0.004  # window radius as a fraction of the working image's longest side
GUIDED_EPS = 1e-4  # regularisation: larger keeps more of the coarse matte
# Only the uncertain band of the coarse matte is changed; confident pixels are kept.
BAND_LOW, BAND_HIGH = 0.02, 0.98


def upsample_matte(
    probability: np.ndarray, size: tuple[int, int], steepen: float = 1.0
) -> np.ndarray:
    """Probability map (model resolution, [0, 1]) to a uint8 matte of ``size`` = (width, height).

    Bilinear interpolation of the low-resolution map gives smooth edges at any scale
    (no blocks of model pixels). ``steepen`` > 1 then rescales the matte by that factor
    around 0.5 (``steepened``).
    """
    # convertScaleAbs: ×255, rounded and saturated to uint8 in one pass (the map is ≥ 0)
    matte = imaging.resize_array(cv2.convertScaleAbs(probability, alpha=255.0), size)
    return matte if steepen == 1.0 else steepened(matte, steepen)


def steepened(matte: np.ndarray, factor: float) -> np.ndarray:
    """A uint8 matte rescaled ``factor`` times around 0.5 and clipped: its soft ramps
    ``factor`` times narrower, which side of 0.5 each pixel is on unchanged."""
    return cv2.LUT(matte, _steepening_table(factor))


@cache
def _steepening_table(factor: float) -> np.ndarray:
    levels = (np.arange(256, dtype=np.float32) - 127.5) * factor + 127.5
    return np.clip(np.rint(levels), 0, 255).astype(np.uint8)


def apply_own_alpha(matte: np.ndarray, own_alpha: np.ndarray | None) -> np.ndarray:
    """A pixel that was transparent in the input stays transparent in the output."""
    if own_alpha is None:
        return matte
    product = matte.astype(np.uint16) * own_alpha
    return ((product + 127) // 255).astype(np.uint8)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    size = 2 * radius + 1
    return cv2.boxFilter(image, -1, (size, size), borderType=cv2.BORDER_REFLECT)


def working_photo(rgb: np.ndarray) -> np.ndarray:
    """The photo at the working size shared by edge refinement and foreground estimation."""
    height, width = rgb.shape[:2]
    return imaging.resize_array(rgb, imaging.fit_size((width, height), GUIDED_WORK_SIDE))


def refine_matte(
    rgb: np.ndarray, matte: np.ndarray, small_rgb: np.ndarray | None = None
) -> np.ndarray:
    """Snap a coarse uint8 matte to the edges of ``rgb`` (H×W×3 uint8) with a colour guided filter.

    The coefficients of the local linear model ``alpha = a·I + b`` are fitted at a working
    resolution and applied to the full-resolution photo (the "fast" guided filter), so fine
    structure such as hair comes from the photo. Pixels the model is sure about are kept.
    """
    height, width = matte.shape
    work = imaging.fit_size((width, height), GUIDED_WORK_SIDE)
    radius = max(1, round(GUIDED_RADIUS * max(work)))
    small = small_rgb if small_rgb is not None and small_rgb.shape[1::-1] == work else None
    guide = (small if small is not None else imaging.resize_array(rgb, work)).astype(
        np.float32
    ) * np.float32(1 / 255)
    coarse = imaging.resize_array(matte, work).astype(np.float32) * np.float32(1 / 255)
    # Feathering a hard mask (He et al.'s guided feathering): the filter puts soft alpha where
    # the photo's colours are mixed and sharp edges where they are not, instead of keeping the
    # model's upsampling blur.
    p = (coarse >= 0.5).astype(np.float32)

    mean_i = _box(guide, radius)
    mean_p = _box(p, radius)
    cov_ip = _box(guide * p[..., None], radius) - mean_i * mean_p[..., None]
    # the 3×3 covariance of the guide per window, its six distinct entries
    r, g, b = guide[..., 0], guide[..., 1], guide[..., 2]
    mr, mg, mb = mean_i[..., 0], mean_i[..., 1], mean_i[..., 2]
    eps = np.float32(GUIDED_EPS)
    var_rr = _box(r * r, radius) - mr * mr + eps
    var_rg = _box(r * g, radius) - mr * mg
    var_rb = _box(r * b, radius) - mr * mb
    var_gg = _box(g * g, radius) - mg * mg + eps
    var_gb = _box(g * b, radius) - mg * mb
    var_bb = _box(b * b, radius) - mb * mb + eps
    # inverse via the adjugate
    inv_rr = var_gg * var_bb - var_gb * var_gb
    inv_rg = var_gb * var_rb - var_rg * var_bb
    inv_rb = var_rg * var_gb - var_gg * var_rb
    inv_gg = var_rr * var_bb - var_rb * var_rb
    inv_gb = var_rb * var_rg - var_rr * var_gb
    inv_bb = var_rr * var_gg - var_rg * var_rg
    det = var_rr * inv_rr + var_rg * inv_rg + var_rb * inv_rb
    cr, cg, cb = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
    a = np.empty_like(guide)
    a[..., 0] = (inv_rr * cr + inv_rg * cg + inv_rb * cb) / det
    a[..., 1] = (inv_rg * cr + inv_gg * cg + inv_gb * cb) / det
    a[..., 2] = (inv_rb * cr + inv_gb * cg + inv_bb * cb) / det
    bias = mean_p - (a * mean_i).sum(axis=2)
    mean_a = _box(a, radius)
    mean_b = _box(bias, radius)

    # Where the coarse matte is confident, keep it; only the band around its edge changes,
    # and only those pixels are computed at full size.
    band_small = (_box(coarse, radius) > BAND_LOW) & (_box(coarse, radius) < BAND_HIGH)
    ys, xs = _full_size_pixels(band_small, (width, height))
    if ys.size == 0:
        return matte
    coefficients = np.dstack([mean_a, mean_b])
    sampled = _sample_bilinear(coefficients, xs, ys, (width, height))
    photo = rgb[ys, xs].astype(np.float32) * np.float32(1 / 255)
    q = (sampled[:, :3] * photo).sum(axis=1) + sampled[:, 3]
    out = matte.copy()
    out[ys, xs] = np.clip(q * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def _full_size_pixels(
    small_mask: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices, at full ``size``, of the pixels a working-size mask covers."""
    full = cv2.resize(small_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    return np.nonzero(full)


def _sample_bilinear(
    small: np.ndarray, xs: np.ndarray, ys: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """Values of ``small`` (h×w×C) at full-size pixels (xs, ys), as cv2.resize would give them.

    Sampling only the pixels that are needed keeps the cost proportional to the edge band,
    not to the image (16 MP photos have a band of well under a megapixel).
    """
    small_h, small_w = small.shape[:2]
    width, height = size
    count = xs.size
    # cv2.remap does the bilinear gather in C; the maps are laid out as rows of 1024 samples.
    rows = -(-count // 1024)
    map_x = np.zeros(rows * 1024, np.float32)
    map_y = np.zeros(rows * 1024, np.float32)
    map_x[:count] = (xs + 0.5) * (small_w / width) - 0.5
    map_y[:count] = (ys + 0.5) * (small_h / height) - 0.5
    sampled = cv2.remap(
        np.ascontiguousarray(small, dtype=np.float32),
        map_x.reshape(rows, 1024),
        map_y.reshape(rows, 1024),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    channels = small.shape[2] if small.ndim == 3 else 1
    return sampled.reshape(rows * 1024, channels)[:count]


# Multi-level foreground estimation, at a working resolution.
# The background estimate is smooth and the foreground is solved per pixel at full size, so
# the multi-level sweeps need no more than 256 px: 4× faster than at 512 px, for 5–9 % more
# colour error on the synthetic case (bench/foreground_quality.py)
FOREGROUND_WORK_SIDE = 256
FOREGROUND_REGULARIZATION = 1e-5
FOREGROUND_GRADIENT_WEIGHT = 1.0
FOREGROUND_ITERATIONS = (10, 2)  # per level: small levels (≤ 32×32), larger levels


def multilevel_foreground(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background colours (float32, [0, 1]) from a photo and its alpha.

    Germer et al., "Fast Multi-Level Foreground Estimation" (ICPR 2020): from a 1×1 image up
    to full size, each level starts from the previous one and solves, per pixel, the 2×2
    system of the compositing equation plus a smoothness term whose weight grows where alpha
    changes. Run here with vectorised Jacobi sweeps instead of in-place Gauss-Seidel ones, in
    OpenCV's element-wise operations (twice as fast as numpy's here: SIMD on both cores).
    """
    height, width = alpha.shape
    levels = max(1, math.ceil(math.log2(max(height, width))))
    fg = image.reshape(-1, 3).mean(axis=0).reshape(1, 1, 3).astype(np.float32)
    bg = fg.copy()
    small_iterations, big_iterations = FOREGROUND_ITERATIONS
    neighbours = ((0, 1), (2, 1), (1, 0), (1, 2))
    for level in range(levels + 1):
        w = max(1, round(width ** (level / levels)))
        h = max(1, round(height ** (level / levels)))
        img = imaging.resize_nearest(image, (w, h)).reshape(h, w, 3)
        a = imaging.resize_nearest(alpha, (w, h)).reshape(h, w)
        fg = imaging.resize_nearest(fg, (w, h)).reshape(h, w, 3)
        bg = imaging.resize_nearest(bg, (w, h)).reshape(h, w, 3)
        padded = cv2.copyMakeBorder(a, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
        # per-pixel factors on one channel, then repeated over the 3 colours (OpenCV does not
        # broadcast): a third of the arithmetic
        plain = [
            cv2.absdiff(a, np.ascontiguousarray(padded[dy : dy + h, dx : dx + w]))
            * np.float32(FOREGROUND_GRADIENT_WEIGHT)
            + np.float32(FOREGROUND_REGULARIZATION)
            for dy, dx in neighbours
        ]
        total = plain[0] + plain[1] + plain[2] + plain[3]
        a1 = 1 - a
        m00, m11, m01 = a * a + total, a1 * a1 + total, a * a1
        inv_det = 1.0 / (m00 * m11 - m01 * m01)
        weights = [cv2.merge([weight] * 3) for weight in plain]
        fg_from_r0, cross, bg_from_r1 = (
            cv2.merge([factor] * 3) for factor in (m11 * inv_det, -m01 * inv_det, m00 * inv_det)
        )
        base0, base1 = cv2.merge([a] * 3) * img, cv2.merge([a1] * 3) * img
        iterations = small_iterations if w * h <= 32 * 32 else big_iterations
        for _ in range(iterations):
            fp = cv2.copyMakeBorder(fg, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
            bp = cv2.copyMakeBorder(bg, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
            r0, r1 = base0.copy(), base1.copy()
            for (dy, dx), weight in zip(neighbours, weights, strict=True):
                r0 += cv2.multiply(fp[dy : dy + h, dx : dx + w], weight)
                r1 += cv2.multiply(bp[dy : dy + h, dx : dx + w], weight)
            fg = np.clip(cv2.multiply(fg_from_r0, r0) + cv2.multiply(cross, r1), 0, 1)
            bg = np.clip(cv2.multiply(bg_from_r1, r1) + cv2.multiply(cross, r0), 0, 1)
    return fg.astype(np.float32), bg.astype(np.float32)


def estimate_foreground(
    rgb: np.ndarray, alpha: np.ndarray, small_rgb: np.ndarray | None = None
) -> np.ndarray:
    """Foreground colours (H×W×3 uint8) for the photo ``rgb`` and its matte ``alpha`` (uint8).

    Where alpha is 255 the photo's own colour is kept exactly; where it is soft the colour is
    the estimate of the person alone, with the background's contribution removed.
    """
    height, width = alpha.shape
    soft = (alpha > 0) & (alpha < 255)
    if not soft.any():
        return rgb
    work = imaging.fit_size((width, height), FOREGROUND_WORK_SIDE)
    source = small_rgb if small_rgb is not None else rgb  # the shared working photo is closer
    image = imaging.resize_array(source, work).astype(np.float32) * np.float32(1 / 255)
    a = imaging.resize_array(alpha, work).astype(np.float32) * np.float32(1 / 255)
    fg, bg = multilevel_foreground(image, a)
    # At full size the background estimate is smooth, so it is sampled from the working size
    # and the foreground solved per pixel from the compositing equation, which keeps the
    # photo's fine detail; only the soft pixels are computed.
    ys, xs = np.nonzero(soft)
    full_fg = _sample_bilinear(fg, xs, ys, (width, height))
    full_bg = _sample_bilinear(bg, xs, ys, (width, height))
    photo = rgb[ys, xs].astype(np.float32) * np.float32(1 / 255)
    a = alpha[ys, xs].astype(np.float32)[:, None] * np.float32(1 / 255)
    solved = (photo - (1 - a) * full_bg) / np.maximum(a, 1e-3)
    # Where alpha is small the solve is ill-conditioned: lean on the smooth estimate there.
    weight = np.clip(a * 2.0, 0.0, 1.0)
    estimate = weight * np.clip(solved, 0, 1) + (1 - weight) * full_fg
    out = rgb.copy()
    out[ys, xs] = np.clip(estimate * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def upsample_probability(probability: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Probability map to ``size`` = (width, height), bilinear, as a new float32 array."""
    probability = np.asarray(probability, dtype=np.float32)
    resized = imaging.resize_array(probability, size)
    return resized.copy() if resized is probability else resized


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a square of side 2·radius+1 (separable running maximum)."""
    window = 2 * radius + 1
    out = np.pad(mask, radius, constant_values=False)
    out = np.lib.stride_tricks.sliding_window_view(out, window, axis=0).any(axis=-1)
    return np.lib.stride_tricks.sliding_window_view(out, window, axis=1).any(axis=-1)
