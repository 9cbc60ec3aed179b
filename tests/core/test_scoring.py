"""The quality scores on tiny synthetic masks whose answers can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from humanseg import scoring


def square(size: int, top: int, left: int, side: int, value: int = 255) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    mask[top : top + side, left : left + side] = value
    return mask


def test_iou_by_hand() -> None:
    truth = square(10, 0, 0, 4)  # 16 pixels
    pred = square(10, 0, 2, 4)  # 16 pixels, 8 shared
    assert scoring.iou(pred, truth) == pytest.approx(8 / 24)
    assert scoring.iou(truth, truth) == 1.0
    assert scoring.iou(np.zeros_like(truth), truth) == 0.0
    assert scoring.iou(np.zeros_like(truth), np.zeros_like(truth)) == 1.0


def test_iou_thresholds_at_half() -> None:
    truth = square(4, 0, 0, 4)
    assert scoring.iou(np.full_like(truth, 128), truth) == 1.0
    assert scoring.iou(np.full_like(truth, 127), truth) == 0.0


def test_mad_by_hand() -> None:
    truth = square(4, 0, 0, 2)  # 4 of 16 pixels are 255
    assert scoring.mad(truth, truth) == 0.0
    assert scoring.mad(np.zeros_like(truth), truth) == pytest.approx(4 / 16)
    assert scoring.mad(np.full_like(truth, 51), np.zeros_like(truth)) == pytest.approx(0.2)


def test_boundary_is_the_outline() -> None:
    outline = scoring.boundary(square(7, 1, 1, 5) > 0)
    assert outline.sum() == 16  # 5×5 square: 25 pixels, 9 inside
    assert not outline[3, 3]


def test_boundary_f_tolerance() -> None:
    truth = square(40, 10, 10, 20)
    shifted = square(40, 12, 12, 20)  # every edge 2 px away
    assert scoring.boundary_f(truth, truth) == 1.0
    assert scoring.boundary_f(shifted, truth, tolerance=3) == 1.0
    assert scoring.boundary_f(shifted, truth, tolerance=0) < 0.2
    far = square(40, 20, 20, 20)
    assert scoring.boundary_f(far, truth, tolerance=3) < 0.5
    assert scoring.boundary_f(np.zeros_like(truth), truth) == 0.0
    assert scoring.boundary_f(np.zeros_like(truth), np.zeros_like(truth)) == 1.0


def test_dilate_is_a_disk() -> None:
    point = np.zeros((7, 7), dtype=bool)
    point[3, 3] = True
    grown = scoring.dilate(point, 2)
    assert grown.sum() == 13  # the disk of radius 2 on the pixel grid
    assert grown[3, 1] and grown[1, 3] and not grown[1, 1]
