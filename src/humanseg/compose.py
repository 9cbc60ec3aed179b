"""Turn a photo and its matte into the requested output image."""

from __future__ import annotations

import numpy as np
from PIL import Image


def alpha_output(matte: np.ndarray) -> Image.Image:
    """The matte itself: 8-bit grayscale, 255 = person."""
    return Image.fromarray(matte, "L")


def foreground_output(rgb: Image.Image, matte: np.ndarray) -> Image.Image:
    """The photo with the matte as its alpha channel.

    Colour is zeroed where alpha is 0, so the removed background cannot be recovered by
    dropping the alpha channel (and the PNG gets smaller).
    """
    pixels = np.asarray(rgb.convert("RGB"))
    rgba = np.empty((*matte.shape, 4), dtype=np.uint8)
    rgba[..., :3] = pixels
    rgba[..., 3] = matte
    rgba[matte == 0, :3] = 0
    return Image.fromarray(rgba, "RGBA")
