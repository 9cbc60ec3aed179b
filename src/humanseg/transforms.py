"""Photos unlike the dev sets' (black-and-white, underexposed, hazy, turned on their side or
upside down), made from them: how ``humanseg eval --transform`` measures what each model
leans on. A turn changes the reference mask too (``turned_mask``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance


@dataclass(frozen=True)
class Transform:
    change: Callable[[Image.Image], Image.Image] | None  # None: only turned
    description: str  # what it did, for the report
    turns: int = 0  # quarter turns counter-clockwise, of the photo and its reference mask


def _grayscale(image: Image.Image) -> Image.Image:
    return image.convert("L").convert("RGB")


def _dim(image: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(0.35)


def _low_contrast(image: Image.Image) -> Image.Image:
    return ImageEnhance.Contrast(image).enhance(0.4)


TRANSFORMS: dict[str, Transform] = {
    "grayscale": Transform(_grayscale, "turned to grayscale"),
    "dim": Transform(_dim, "darkened to 35 % brightness"),
    "low-contrast": Transform(_low_contrast, "flattened to 40 % contrast"),
    # a person lying down (head to the left, then to the right) or upside down
    "rotated-90": Transform(None, "turned a quarter turn counter-clockwise", turns=1),
    "rotated-180": Transform(None, "turned upside down", turns=2),
    "rotated-270": Transform(None, "turned a quarter turn clockwise", turns=3),
}


def transformed(rgb: np.ndarray, name: str) -> np.ndarray:
    """``rgb`` (height × width × 3, uint8) changed by the transform ``name``."""
    transform = TRANSFORMS[name]
    if transform.change is not None:
        rgb = np.asarray(transform.change(Image.fromarray(rgb)))
    return np.ascontiguousarray(np.rot90(rgb, transform.turns))


def turned_mask(mask: np.ndarray, name: str) -> np.ndarray:
    """A reference mask (or alpha channel) of a photo changed by ``name``, turned with it."""
    return np.ascontiguousarray(np.rot90(mask, TRANSFORMS[name].turns))
