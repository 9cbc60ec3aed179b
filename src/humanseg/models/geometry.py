"""Boxes on images and maps: (left, top, right, bottom) in pixels, right and bottom exclusive."""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]


def size_of(array: np.ndarray) -> tuple[int, int]:
    """(width, height) of an image or map."""
    return (array.shape[1], array.shape[0])


def bounds(mask: np.ndarray) -> Box | None:
    """The box around the true pixels of a boolean ``mask``; None if there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def person_bounds(probability: np.ndarray, threshold: float) -> Box | None:
    """The box around the pixels at or above ``threshold``; None if there are none."""
    return bounds(probability >= threshold)


def aspect(box: Box | None) -> float:
    """Height / width of ``box`` (1 for none)."""
    if box is None:
        return 1.0
    left, top, right, bottom = box
    return (bottom - top) / max(1, right - left)


def widened(box: Box | None, margin: float, size: tuple[int, int]) -> Box | None:
    """``box`` with each side moved out by ``margin`` times its size, clipped to ``size``."""
    if box is None:
        return None
    width, height = size
    left, top, right, bottom = box
    dx, dy = margin * (right - left), margin * (bottom - top)
    return (
        max(0, int(left - dx)),
        max(0, int(top - dy)),
        min(width, int(np.ceil(right + dx))),
        min(height, int(np.ceil(bottom + dy))),
    )


def square_tiles(size: tuple[int, int], side: int | None = None) -> list[Box]:
    """Squares of ``side`` (the short side of an image of ``size`` when None), overlapping by
    half or more, that cover it."""
    width, height = size
    side = max(1, min(width, height) if side is None else min(side, width, height))
    step = max(1, side // 2)
    starts_x = [*range(0, width - side, step), max(0, width - side)]
    starts_y = [*range(0, height - side, step), max(0, height - side)]
    return [(x, y, x + side, y + side) for y in starts_y for x in starts_x]


def below_face(face: tuple[float, float, float, float], size: tuple[int, int]) -> Box | None:
    """The region where the person of a face (left, top, right, bottom, in pixels of an image
    of ``size``) can be: 2.5 face widths either side of its centre, from half a face above it
    down to 7 faces below (a standing person is about 7.5 heads tall), clipped to the image;
    None if nothing of it is inside."""
    left, top, right, bottom = face
    width, height = right - left, bottom - top
    centre = (left + right) / 2
    box = clipped(
        (
            int(centre - 2.5 * width),
            int(top - 0.5 * height),
            int(np.ceil(centre + 2.5 * width)),
            int(np.ceil(bottom + 7.0 * height)),
        ),
        size,
    )
    return box if box[0] < box[2] and box[1] < box[3] else None


def clipped(box: Box, size: tuple[int, int]) -> Box:
    """The part of ``box`` inside an image of ``size``."""
    left, top, right, bottom = box
    return (max(0, left), max(0, top), min(size[0], right), min(size[1], bottom))


def square_around(box: Box) -> Box:
    """The square with ``box``'s centre and longest side; it may reach past the photo (a crop
    pads that with black), as the detector expects an undistorted region around the person."""
    left, top, right, bottom = box
    side = max(right - left, bottom - top)
    x, y = (left + right - side) // 2, (top + bottom - side) // 2
    return (x, y, x + side, y + side)


def scaled(box: Box, scale: float) -> Box:
    """A box of a map in the pixels of an image ``scale`` times larger."""
    left, top, right, bottom = box
    return (round(left * scale), round(top * scale), round(right * scale), round(bottom * scale))


def cut(rgb: np.ndarray, box: Box, scale: float = 1.0) -> np.ndarray:
    """The part of ``rgb`` under ``box``, a box of a map ``scale`` times smaller."""
    left, top, right, bottom = scaled(box, scale) if scale != 1.0 else box
    return rgb[top:bottom, left:right]


def crop_padded(rgb: np.ndarray, box: Box) -> np.ndarray:
    """``rgb`` cut to ``box``, black where the box leaves it."""
    left, top, right, bottom = box
    height, width = rgb.shape[:2]
    if left >= 0 and top >= 0 and right <= width and bottom <= height:
        return rgb[top:bottom, left:right]
    out = np.zeros((bottom - top, right - left, *rgb.shape[2:]), dtype=rgb.dtype)
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
    if x0 < x1 and y0 < y1:
        out[y0 - top : y1 - top, x0 - left : x1 - left] = rgb[y0:y1, x0:x1]
    return out


def turned(box: Box, size: tuple[int, int], turns: int) -> Box:
    """``box`` of an image of ``size`` in that image turned ``turns`` quarter turns
    counter-clockwise (numpy's ``rot90``)."""
    width, height = size
    for _ in range(turns % 4):
        left, top, right, bottom = box
        box = (top, width - right, bottom, width - left)
        width, height = height, width
    return box
