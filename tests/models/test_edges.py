"""The learned edge step: its band, its features, its fit, and what it learns. Pure functions
on synthetic scenes (no model runs)."""

from __future__ import annotations

import numpy as np

from humanseg import evaluation
from humanseg.models import edges
from humanseg.models.edges import EdgeModel
from humanseg.models.fusion import Evidence, FusionParams, MemberMap, fuse, fuse_both
from tests.models.test_fusion import _collected

SIDE = 64


def _disk(radius: float, centre: tuple[float, float]) -> np.ndarray:
    yy, xx = np.mgrid[:SIDE, :SIDE]
    return np.hypot(yy - centre[0], xx - centre[1])


def _scene(seed: int) -> tuple[Evidence, np.ndarray]:
    """A disk of one colour on a background of another; the member's map is 3 px too wide or
    3 px too narrow, at random, so only the colour tells where the edge is."""
    rng = np.random.default_rng(seed)
    radius = float(rng.integers(14, 20))
    centre = (32.0 + rng.uniform(-3, 3), 32.0 + rng.uniform(-3, 3))
    distance = _disk(radius, centre)
    person, background = rng.integers(130, 255, 3), rng.integers(0, 110, 3)
    truth = (distance <= radius).astype(np.float32)
    colour = np.where(truth[..., None] > 0, person, background) + rng.normal(0, 6, (SIDE, SIDE, 3))
    colour = np.clip(colour, 0, 255).astype(np.uint8)
    offset = 3.0 if rng.random() < 0.5 else -3.0
    probability = 1.0 / (1.0 + np.exp(-(radius + offset - distance) / 1.5))
    member = MemberMap(probability.astype(np.float32))
    return Evidence((SIDE, SIDE), (member,), 1.0, colour=colour), truth


def _iou(matte: np.ndarray, truth: np.ndarray) -> float:
    a, b = matte >= 0.5, truth >= 0.5
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def test_the_band_holds_the_pixels_near_the_outline_with_their_signed_distance() -> None:
    distance = _disk(20, (32, 32))
    fused = (distance <= 20).astype(np.float32)
    where, signed = edges.band_of(fused, 4)
    d = distance.ravel()[where]
    assert np.all(np.abs(signed) <= 4)
    assert np.all((signed > 0) == (d <= 20))  # positive inside
    near = np.abs(distance - 20) <= 2.5
    assert set(np.flatnonzero(near)) <= set(where)  # every pixel close to the outline is in
    assert edges.band_of(np.zeros((8, 8), np.float32), 4)[0].size == 0


def test_the_fit_recovers_a_logistic_rule() -> None:
    rng = np.random.default_rng(0)
    rows = [rng.normal(0, 1, (500, 2)).astype(np.float32) for _ in range(4)]
    labels = [(2 * r[:, 0] - r[:, 1] + rng.normal(0, 0.3, len(r)) > 0.5) for r in rows]
    intercept, a, b = edges.fit(rows, labels)
    assert a > 0 > b and abs(a / b + 2) < 0.3 and abs(intercept / a + 0.25) < 0.1


def test_the_fit_stays_finite_when_every_pixel_is_on_one_side() -> None:
    rows = [np.random.default_rng(1).random((50, 3), dtype=np.float32)]
    inside = edges.fit(rows, [np.ones(50, dtype=bool)])
    outside = edges.fit(rows, [np.zeros(50, dtype=bool)])
    constant = edges.fit([np.ones((5, 3), np.float32)], [np.array([1, 0, 1, 0, 1], dtype=bool)])
    assert all(np.isfinite(c) for c in (*inside, *outside, *constant))
    assert inside[0] > 3 > -3 > outside[0]  # they say: person, and nobody


def test_the_step_learns_the_edge_from_colour_and_changes_only_the_band() -> None:
    params = FusionParams((1.0,), threshold=0.5, sharpen=4.0)
    training = [_collected(str(i), *_scene(i)) for i in range(24)]
    fitted = evaluation.fit_edge(training, params, EdgeModel((), (), band=5))
    assert fitted.edge is not None
    assert len(fitted.edge.others) == 1 + edges.feature_count(1)
    assert fitted.edge.standing == fitted.edge.others  # nobody standing: the others' numbers
    before, after = [], []
    for seed in range(100, 110):
        evidence, truth = _scene(seed)
        plain = fuse(evidence, params)
        stepped, unstepped = fuse_both(evidence, fitted)
        assert np.array_equal(unstepped, plain)
        where, _ = edges.band_of(plain, 5)
        outside = np.ones(plain.size, dtype=bool)
        outside[where] = False
        assert np.array_equal(stepped.ravel()[outside], plain.ravel()[outside])
        before.append(_iou(plain, truth))
        after.append(_iou(stepped, truth))
    assert np.mean(before) < 0.85 and np.mean(after) > 0.95, (before, after)
    # without the photo's colour in the evidence, no step
    evidence, _ = _scene(100)
    evidence = Evidence(evidence.size, evidence.members, 1.0)
    assert np.array_equal(fuse(evidence, fitted), fuse(evidence, params))


def test_standing_people_get_their_own_coefficients() -> None:
    params = FusionParams((1.0,), threshold=0.5, sharpen=4.0)
    items = []
    for i in range(12):
        evidence, truth = _scene(i)
        aspect = 3.0 if i % 2 else 1.0
        evidence = Evidence(evidence.size, evidence.members, 1.0, aspect, colour=evidence.colour)
        items.append(_collected(str(i), evidence, truth))
    fitted = evaluation.fit_edge(items, params, EdgeModel((), (), standing_from=2.5))
    assert fitted.edge is not None and fitted.edge.standing != fitted.edge.others
    assert fitted.edge.coefficients(3.0) == fitted.edge.standing
    assert fitted.edge.coefficients(1.0) == fitted.edge.others
