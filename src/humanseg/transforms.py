"""Photos unlike the dev sets' (black-and-white, underexposed, hazy), made from them: how
``humanseg eval --transform`` measures what each model leans on."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance


def _grayscale(image: Image.Image) -> Image.Image:
    return image.convert("L").convert("RGB")


def _dim(image: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(0.35)


def _low_contrast(image: Image.Image) -> Image.Image:
    return ImageEnhance.Contrast(image).enhance(0.4)


# name: (the change, what it did, for the report)
TRANSFORMS: dict[str, tuple[Callable[[Image.Image], Image.Image], str]] = {
    "grayscale": (_grayscale, "turned to grayscale"),
    "dim": (_dim, "darkened to 35 % brightness"),
    "low-contrast": (_low_contrast, "flattened to 40 % contrast"),
}


def transformed(rgb: np.ndarray, name: str) -> np.ndarray:
    """``rgb`` (height × width × 3, uint8) changed by the transform ``name``."""
    change = TRANSFORMS[name][0]
    return np.ascontiguousarray(np.asarray(change(Image.fromarray(rgb))))
