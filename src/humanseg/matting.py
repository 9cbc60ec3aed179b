"""From the model's probability map to a full-size 8-bit matte, refined edges and clean colours.

- ``upsample_matte``: the model's low-resolution map to a full-size matte (bilinear).
- ``refine_matte``: edge refinement, a fast guided filter (He & Sun, 2015) steered by the
  full-resolution photo, so the soft band of the coarse matte snaps to the photo's own edges
  (hair, shoulders) instead of the model's 256-px blur.
- ``estimate_foreground``: the foreground colour under semi-transparent pixels, by blur fusion
  (Forte & Pitié, "Approximate fast foreground colour estimation", ICIP 2021), so the old
  background does not bleed into hair when the cut-out is put on a new background.

Box filters, resizes and the per-pixel 3×3 solves are done at a working resolution of about
one megapixel; only cheap per-pixel arithmetic runs at full size, which bounds the cost at
16 MP.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

# Guided filter, tuned on the dev set (bench/refine_quality.py) for people in general.
GUIDED_WORK_SIDE = 512  # longest side at which the filter's coefficients are computed
GUIDED_RADIUS = 0.004  # window radius as a fraction of the working image's longest side
GUIDED_EPS = 1e-4  # regularisation: larger keeps more of the coarse matte
# Only the uncertain band of the coarse matte is changed; confident pixels are kept.
BAND_LOW, BAND_HIGH = 0.02, 0.98


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


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    size = 2 * radius + 1
    return cv2.boxFilter(image, -1, (size, size), borderType=cv2.BORDER_REFLECT)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an array to (width, height): area averaging down, bilinear up."""
    height, width = image.shape[:2]
    if (width, height) == size:
        return image
    shrinking = size[0] < width
    method = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=method)


def _working_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def refine_matte(rgb: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """Snap a coarse uint8 matte to the edges of ``rgb`` (H×W×3 uint8) with a colour guided filter.

    The coefficients of the local linear model ``alpha = a·I + b`` are fitted at a working
    resolution and applied to the full-resolution photo (the "fast" guided filter), so fine
    structure such as hair comes from the photo. Pixels the model is sure about are kept.
    """
    height, width = matte.shape
    work = _working_size((width, height), GUIDED_WORK_SIDE)
    radius = max(1, round(GUIDED_RADIUS * max(work)))
    guide = _resize(rgb, work).astype(np.float32) * np.float32(1 / 255)
    coarse = _resize(matte, work).astype(np.float32) * np.float32(1 / 255)
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

    # Where the coarse matte is confident at working resolution, keep it; the band is small.
    band_small = (_box(coarse, radius) > BAND_LOW) & (_box(coarse, radius) < BAND_HIGH)
    if not band_small.any():
        return matte
    band = _resize(band_small.astype(np.uint8), (width, height)).astype(bool)
    rows = np.flatnonzero(band.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    full_a = _resize(mean_a, (width, height))[top:bottom]
    full_b = _resize(mean_b, (width, height))[top:bottom]
    photo = rgb[top:bottom].astype(np.float32) * np.float32(1 / 255)
    q = (full_a * photo).sum(axis=2) + full_b
    refined = np.clip(q * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out = matte.copy()
    strip = out[top:bottom]
    strip_band = band[top:bottom]
    strip[strip_band] = refined[strip_band]
    return out


# Blur fusion: a large then a small radius, as a fraction of the working image's longest side.
FOREGROUND_WORK_SIDE = 1024
FOREGROUND_RADII = (0.09, 0.006)


def _blur_fusion_step(
    image: np.ndarray, alpha: np.ndarray, fg: np.ndarray, bg: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    a = alpha[..., None]
    blurred_alpha = _box(alpha, radius)[..., None]
    blurred_fa = _box(fg * a, radius)
    blurred_f = blurred_fa / (blurred_alpha + 1e-5)
    blurred_b1a = _box(bg * (1 - a), radius)
    blurred_b = blurred_b1a / ((1 - blurred_alpha) + 1e-5)
    fg = blurred_f + a * (image - a * blurred_f - (1 - a) * blurred_b)
    return np.clip(fg, 0, 1), blurred_b


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Foreground colours (H×W×3 uint8) for the photo ``rgb`` and its matte ``alpha`` (uint8).

    Where alpha is 255 the photo's own colour is kept exactly; where it is soft the colour is
    the estimate of the person alone, with the background's contribution removed.
    """
    height, width = alpha.shape
    soft = (alpha > 0) & (alpha < 255)
    if not soft.any():
        return rgb
    work = _working_size((width, height), FOREGROUND_WORK_SIDE)
    image = _resize(rgb, work).astype(np.float32) * np.float32(1 / 255)
    a = _resize(alpha, work).astype(np.float32) * np.float32(1 / 255)
    fg, bg = image, image
    for fraction in FOREGROUND_RADII:
        radius = max(1, round(fraction * max(work)))
        fg, bg = _blur_fusion_step(image, a, fg, bg, radius)
    # At full size the background estimate is smooth, so it is upsampled and the foreground
    # is solved per pixel from the compositing equation, keeping the photo's fine detail.
    out = rgb.copy()
    rows = np.flatnonzero(soft.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    full_bg = _resize(bg, (width, height))[top:bottom]
    full_fg = _resize(fg, (width, height))[top:bottom]
    photo = rgb[top:bottom].astype(np.float32) * np.float32(1 / 255)
    strip_alpha = alpha[top:bottom].astype(np.float32)[..., None] * np.float32(1 / 255)
    solved = (photo - (1 - strip_alpha) * full_bg) / np.maximum(strip_alpha, 1e-3)
    # Where alpha is small the solve is ill-conditioned: lean on the smooth estimate there.
    weight = np.clip(strip_alpha * 2.0, 0.0, 1.0)
    estimate = weight * np.clip(solved, 0, 1) + (1 - weight) * full_fg
    strip_soft = soft[top:bottom]
    strip = out[top:bottom]
    strip[strip_soft] = np.clip(estimate * 255.0 + 0.5, 0, 255).astype(np.uint8)[strip_soft]
    return out
