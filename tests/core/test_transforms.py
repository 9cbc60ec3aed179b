"""The photo changes `humanseg eval --transform` measures with: pure functions."""

import numpy as np
import pytest

from humanseg.transforms import TRANSFORMS, canvas_box, transformed, transformed_mask
from tests.support import images


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return np.asarray(images.astronaut())


def test_grayscale_leaves_no_colour(rgb: np.ndarray) -> None:
    gray = transformed(rgb, "grayscale")
    assert gray.shape == rgb.shape and gray.dtype == np.uint8
    assert np.array_equal(gray[..., 0], gray[..., 1]) and np.array_equal(gray[..., 1], gray[..., 2])
    assert not np.array_equal(rgb[..., 0], rgb[..., 1])


def test_dim_darkens_and_low_contrast_flattens(rgb: np.ndarray) -> None:
    dim = transformed(rgb, "dim").astype(np.float64)
    assert dim.mean() == pytest.approx(0.35 * rgb.mean(), rel=0.02)
    flat = transformed(rgb, "low-contrast").astype(np.float64)
    assert flat.std() == pytest.approx(0.4 * rgb.astype(np.float64).std(), rel=0.05)
    assert flat.mean() == pytest.approx(rgb.mean(), rel=0.05)


@pytest.mark.parametrize("name", ["rotated-90", "rotated-180", "rotated-270"])
def test_a_turn_turns_the_photo_and_its_mask_alike(rgb: np.ndarray, name: str) -> None:
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    mask[10:60, 200:230] = 255  # a patch of the photo, marked
    turned, turned_reference = transformed(rgb, name), transformed_mask(mask, name)
    assert turned.shape[:2] == turned_reference.shape
    assert not np.array_equal(turned, rgb)
    # the marked pixels are the same pixels of the photo after the turn
    patch = rgb[10:60, 200:230]
    rows, cols = np.nonzero(turned_reference)
    seen = turned[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    assert np.array_equal(np.rot90(patch, TRANSFORMS[name].turns), seen)


def test_rotated_90_is_a_quarter_turn_counter_clockwise(rgb: np.ndarray) -> None:
    turned = transformed(rgb, "rotated-90")
    # the photo's top-right corner comes to the top left
    assert np.array_equal(turned[0, 0], rgb[0, -1])
    assert turned.shape == (rgb.shape[1], rgb.shape[0], 3)


def test_small_places_the_photo_and_its_mask_alike_in_a_larger_canvas(rgb: np.ndarray) -> None:
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    mask[10:60, 200:230] = 255
    small, reference = transformed(rgb, "small"), transformed_mask(mask, "small")
    height, width = rgb.shape[:2]
    left, top, outer_width, outer_height = canvas_box((width, height), 3.0)
    assert small.shape == (outer_height, outer_width, 3) and reference.shape == small.shape[:2]
    assert (outer_width, outer_height) == (3 * width, 3 * height)
    # the photo whole, off-centre and low; the marked pixels are the same pixels of it
    assert np.array_equal(small[top : top + height, left : left + width], rgb)
    assert 0 < left < outer_width - width - left and top > outer_height - height - top > 0
    rows, cols = np.nonzero(reference)
    assert (rows.min(), rows.max()) == (top + 10, top + 59)
    assert (cols.min(), cols.max()) == (left + 200, left + 229)
    # around it, a smooth fill (no second copy of the photo): the same every time
    assert np.abs(np.diff(small[: top - 1, :].astype(np.int16), axis=1)).max() <= 20
    assert np.array_equal(transformed(rgb, "small"), small)
