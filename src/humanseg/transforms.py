"""Photos unlike the dev sets' (black-and-white, underexposed, hazy, turned on their side or
upside down, the person small in a larger photo), made from them: how ``humanseg eval
--transform`` measures what each model leans on. A turn or a larger canvas changes the
reference mask too (``transformed_mask``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageEnhance


@dataclass(frozen=True)
class Transform:
    change: Callable[[Image.Image], Image.Image] | None  # None: only turned
    description: str  # what it did, for the report
    turns: int = 0  # quarter turns counter-clockwise, of the photo and its reference mask
    # the photo placed in a canvas this many times as wide and as high (``placed``), its
    # reference mask with it
    canvas: float = 1.0


def _grayscale(image: Image.Image) -> Image.Image:
    return image.convert("L").convert("RGB")


def _dim(image: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(0.35)


def _low_contrast(image: Image.Image) -> Image.Image:
    return ImageEnhance.Contrast(image).enhance(0.4)


# where a photo goes in a larger canvas: this share of the free width on its left and of the
# free height above it (off-centre and low, as people often stand in a photo)
PLACE_AT = (0.3, 0.6)
# the canvas around it: the photo's own border colours, smoothed, and a little fixed grain
GRAIN = 6


def canvas_box(size: tuple[int, int], factor: float) -> tuple[int, int, int, int]:
    """(left, top, canvas width, canvas height) of an image of ``size`` placed by ``placed``."""
    width, height = size
    outer_width, outer_height = round(width * factor), round(height * factor)
    left = round((outer_width - width) * PLACE_AT[0])
    top = round((outer_height - height) * PLACE_AT[1])
    return left, top, outer_width, outer_height


def placed(array: np.ndarray, factor: float, *, fill: bool) -> np.ndarray:
    """``array`` (an image, or a mask) in a canvas ``factor`` times as wide and as high (see
    ``PLACE_AT``): a mask on zeros; an image (``fill``) on its own colours blurred into a
    smooth background with a fixed grain, with nobody in it."""
    height, width = array.shape[:2]
    left, top, outer_width, outer_height = canvas_box((width, height), factor)
    if fill:
        small = cv2.resize(array, (4, 4), interpolation=cv2.INTER_AREA)
        canvas = cv2.resize(small, (outer_width, outer_height), interpolation=cv2.INTER_LINEAR)
        grain = np.random.default_rng(0).integers(-GRAIN, GRAIN + 1, canvas.shape)
        canvas = np.clip(canvas.astype(np.int16) + grain, 0, 255).astype(array.dtype)
    else:
        canvas = np.zeros((outer_height, outer_width, *array.shape[2:]), dtype=array.dtype)
    canvas[top : top + height, left : left + width] = array
    return canvas


TRANSFORMS: dict[str, Transform] = {
    "grayscale": Transform(_grayscale, "turned to grayscale"),
    "dim": Transform(_dim, "darkened to 35 % brightness"),
    "low-contrast": Transform(_low_contrast, "flattened to 40 % contrast"),
    # a person lying down (head to the left, then to the right) or upside down
    "rotated-90": Transform(None, "turned a quarter turn counter-clockwise", turns=1),
    "rotated-180": Transform(None, "turned upside down", turns=2),
    "rotated-270": Transform(None, "turned a quarter turn clockwise", turns=3),
    # a person a third as high as the photo (the dev photos' people fill most of theirs)
    "small": Transform(None, "placed in a photo three times as wide and as high", canvas=3.0),
}


def transformed(rgb: np.ndarray, name: str) -> np.ndarray:
    """``rgb`` (height × width × 3, uint8) changed by the transform ``name``."""
    transform = TRANSFORMS[name]
    if transform.change is not None:
        rgb = np.asarray(transform.change(Image.fromarray(rgb)))
    if transform.canvas != 1.0:
        rgb = placed(rgb, transform.canvas, fill=True)
    return np.ascontiguousarray(np.rot90(rgb, transform.turns))


def transformed_mask(mask: np.ndarray, name: str) -> np.ndarray:
    """A reference mask (or alpha channel) of a photo changed by ``name``, turned or placed
    with it."""
    transform = TRANSFORMS[name]
    if transform.canvas != 1.0:
        mask = placed(mask, transform.canvas, fill=False)
    return np.ascontiguousarray(np.rot90(mask, transform.turns))
