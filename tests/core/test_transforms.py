"""The photo changes `humanseg eval --transform` measures with: pure functions."""

import numpy as np
import pytest

from humanseg.transforms import transformed
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
