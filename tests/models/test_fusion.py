"""Fusion of a pipeline's evidence, its confidence, and the k-fold selection: pure functions."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from humanseg import evaluation
from humanseg.evaluation import PhotoScore
from humanseg.models.fusion import (
    Evidence,
    FusionParams,
    MemberMap,
    agreed_weights,
    confidence,
    drop_small_parts,
    fuse,
)


def _person(size: tuple[int, int] = (40, 30)) -> np.ndarray:
    width, height = size
    probability = np.zeros((height, width), dtype=np.float32)
    probability[5:25, 10:30] = 0.9
    return probability


def test_a_close_up_counts_only_inside_its_box() -> None:
    whole = _person()
    close_up = np.full((10, 10), 0.2, dtype=np.float32)
    evidence = Evidence((40, 30), (MemberMap(whole), MemberMap(close_up, (0, 0, 10, 10))), 1.0)
    fused = fuse(evidence, FusionParams((1.0, 1.0), threshold=0.5, sharpen=1.0))
    assert np.allclose(fused[:10, :10], 0.1)  # (0 + 0.2) / 2 inside the box
    assert np.allclose(fused[5:25, 10:30][5:, 5:], 0.9)  # outside it, the whole map alone


def test_a_member_that_disagrees_with_the_rest_weighs_less_on_that_photo() -> None:
    """Two members see the person; a third, weighed most, misses them and sees someone
    elsewhere (MODNet on a dim group): weighed by their agreement, the two decide."""
    seen = np.zeros((30, 80), dtype=np.float32)
    seen[5:25, 10:30] = 1.0
    elsewhere = np.zeros_like(seen)
    elsewhere[5:25, 45:65] = 1.0
    members = (MemberMap(seen), MemberMap(seen.copy()), MemberMap(elsewhere))
    evidence = Evidence((80, 30), members, 1.0)
    params = FusionParams((1.0, 1.0, 1.5), threshold=0.35, sharpen=4.0)
    fixed = fuse(evidence, params)
    assert (fixed[5:25, 45:65] >= 0.5).all()  # fixed weights: the third invents a person
    weights = agreed_weights(evidence, params.weights, 2.0)
    assert weights[0] == weights[1] and weights[2] / 1.5 < 0.5 * weights[0]
    agreed = fuse(evidence, replace(params, agreement=2.0))
    assert (agreed[5:25, 45:65] < 0.5).all()
    assert (agreed[5:25, 10:30] >= 0.5).all()  # the person the two agree on stays
    # without the exponent, or with members that agree, the weights are as given
    assert agreed_weights(evidence, params.weights, 0.0) == params.weights
    same = Evidence((80, 30), (MemberMap(seen), MemberMap(seen.copy())), 1.0)
    assert agreed_weights(same, (1.0, 2.0), 2.0) == pytest.approx((1.0, 2.0))


def test_a_general_model_cannot_empty_a_person() -> None:
    """A salient-object model that misses the person must not outvote the person model."""
    person = MemberMap(_person())
    missed = MemberMap(np.zeros((30, 40), dtype=np.float32), person_specific=False)
    params = FusionParams((1.0, 3.0), threshold=0.4, sharpen=8.0)
    fused = fuse(Evidence((40, 30), (person, missed), 1.0), params)
    assert (fused >= 0.5).sum() == 20 * 20
    # a general model that agrees keeps its say
    agrees = MemberMap(_person() * 0.5, person_specific=False)
    fused = fuse(Evidence((40, 30), (person, agrees), 1.0), params)
    assert np.allclose(fused[10, 15], np.clip((0.9 * 0.25 + 0.45 * 0.75 - 0.4) * 8 + 0.5, 0, 1))


def test_parts_far_smaller_than_the_largest_are_dropped_with_their_soft_edges() -> None:
    matte = np.zeros((60, 80), dtype=np.float32)
    matte[10:50, 10:30] = 1.0  # the subject: 800 px
    matte[10:50, 9] = 0.3  # its soft edge
    matte[20:40, 50:60] = 1.0  # a part a quarter of its size
    matte[20:40, 61] = 0.3  # and its soft edge
    matte[55, 70] = 0.2  # stray haze near no part
    kept = drop_small_parts(matte, 0.3)
    assert np.array_equal(kept[:, :40], matte[:, :40])  # the subject and its edge untouched
    assert not kept[:, 40:].any()
    assert np.array_equal(drop_small_parts(matte, 0.2)[:, :65], matte[:, :65])
    # a group of similar size stays whole; an empty matte stays empty
    assert np.array_equal(
        drop_small_parts(np.maximum(matte, matte[:, ::-1]), 0.5)[:55],
        np.maximum(matte, matte[:, ::-1])[:55],
    )
    assert not drop_small_parts(np.zeros((5, 5), np.float32), 0.5).any()


def test_a_general_models_object_larger_than_the_person_never_outweighs_them() -> None:
    matte = np.zeros((60, 80), dtype=np.float32)
    matte[10:50, 5:45] = 1.0  # an object a general model outlined: 1600 px
    matte[20:40, 60:70] = 1.0  # the person: 200 px
    people = np.zeros(matte.shape, dtype=bool)
    people[20:40, 60:70] = True  # where the person models see someone
    kept = drop_small_parts(matte, 0.5, people)
    assert kept[30, 65] == 1.0 and not kept[:, :50].any()
    assert drop_small_parts(matte, 0.5)[30, 65] == 0.0  # by area alone, the person would go


def test_fusion_drops_small_parts_only_when_asked() -> None:
    probability = _person()
    probability[26:29, 35:39] = 0.9  # a speck apart from the person
    evidence = Evidence((40, 30), (MemberMap(probability),), 1.0)
    params = FusionParams((1.0,), threshold=0.5, sharpen=4.0)
    assert fuse(evidence, params)[27, 36] > 0.5
    fused = fuse(evidence, replace(params, parts=0.2))
    assert fused[27, 36] == 0.0 and fused[15, 20] > 0.5


def test_the_gate_scales_the_matte_and_nobody_is_empty() -> None:
    members = (MemberMap(_person()),)
    params = FusionParams((1.0,), threshold=0.5, sharpen=1.0)
    assert np.allclose(fuse(Evidence((40, 30), members, 0.5), params).max(), 0.45)
    assert not fuse(Evidence((40, 30), (None,), 0.0), params).any()


def test_confidence_drops_when_members_disagree() -> None:
    params = FusionParams((1.0, 1.0), threshold=0.5, sharpen=4.0)
    agree = Evidence((40, 30), (MemberMap(_person()), MemberMap(_person())), 1.0)
    other = np.zeros((30, 40), dtype=np.float32)
    other[5:25, 20:40] = 0.9  # half of it elsewhere
    disagree = Evidence((40, 30), (MemberMap(_person()), MemberMap(other)), 1.0)
    high = confidence(agree, params, fuse(agree, params))
    low = confidence(disagree, params, fuse(disagree, params))
    assert 0.0 <= low < high <= 1.0
    nobody = Evidence((40, 30), (None, None), 0.0)
    assert confidence(nobody, params, fuse(nobody, params)) == 1.0  # a sure "nobody"
    # the gate's "nobody" where the guide model saw a person: the less sure, the more it saw
    for seen, expected in ((0.05, 0.75), (0.1, 0.5), (0.3, 0.0)):
        doubted = Evidence((40, 30), (None, None), 0.0, guide_saw=seen)
        assert confidence(doubted, params, fuse(doubted, params)) == pytest.approx(expected)


def _score(iou: float, confidence: float | None) -> PhotoScore:
    return PhotoScore("s", f"{iou}-{confidence}", iou, 0.0, 0.0, 1.0, confidence, False)


def test_auroc_ranks_bad_results_below_good_ones() -> None:
    perfect = [_score(0.5, 0.1), _score(0.7, 0.2), _score(0.95, 0.8), _score(0.9, 0.9)]
    assert evaluation.auroc(perfect) == 1.0
    backwards = [_score(0.5, 0.9), _score(0.95, 0.1)]
    assert evaluation.auroc(backwards) == 0.0
    assert evaluation.auroc([_score(0.5, 0.5), _score(0.95, 0.5)]) == 0.5  # ties count half
    assert evaluation.auroc([_score(0.95, 0.5)]) is None  # no bad result to rank


def test_folds_are_stable_and_cover_every_photo() -> None:
    pairs = [evaluation.Pair("set", str(i), None, None) for i in range(200)]  # type: ignore[arg-type]
    folds = [evaluation.fold_of(pair, 5) for pair in pairs]
    assert folds == [evaluation.fold_of(pair, 5) for pair in pairs]
    assert set(folds) == {0, 1, 2, 3, 4}
    assert min(folds.count(k) for k in range(5)) > 20
    salted = [evaluation.fold_of(pair, 5, "a") for pair in pairs]
    assert salted == [evaluation.fold_of(pair, 5, "a") for pair in pairs]
    assert salted != folds and set(salted) == {0, 1, 2, 3, 4}


def _collected(name: str, evidence: Evidence, truth: np.ndarray) -> evaluation.Collected:
    pair = evaluation.Pair("set", name, None, None)  # type: ignore[arg-type]
    photo = SimpleNamespace(pair=pair)
    return evaluation.Collected(photo, evidence, 0.0, truth)  # type: ignore[arg-type]


def test_a_doubting_gate_and_a_person_model_that_sees_nobody_give_nobody() -> None:
    person = MemberMap(_person())
    blind = MemberMap(np.full((30, 40), 0.2, dtype=np.float32))  # sees nobody
    params = FusionParams((1.0, 1.0), threshold=0.3, sharpen=8.0)
    assert not fuse(Evidence((40, 30), (person, blind), 0.7), params).any()
    # a sure gate keeps the person, and so does a doubting one when every person model sees them
    assert fuse(Evidence((40, 30), (person, blind), 1.0), params).any()
    assert fuse(Evidence((40, 30), (person, person), 0.7), params).any()
    # a general model that sees nothing is no evidence against a person
    general = MemberMap(np.zeros((30, 40), dtype=np.float32), person_specific=False)
    assert fuse(Evidence((40, 30), (person, general), 0.7), params).any()


def test_dropping_a_few_parts_by_their_boxes_equals_one_lookup(monkeypatch) -> None:
    from humanseg.models import fusion

    rng = np.random.default_rng(7)
    for _ in range(20):
        matte = np.zeros((60, 80), dtype=np.float32)
        for _ in range(6):  # a few blobs of random sizes with soft edges
            top, left = rng.integers(0, 50), rng.integers(0, 70)
            matte[top : top + rng.integers(2, 12), left : left + rng.integers(2, 12)] = 1.0
        matte = np.maximum(matte, rng.random(matte.shape, dtype=np.float32) * 0.4)
        by_boxes = drop_small_parts(matte, 0.4)
        monkeypatch.setattr(fusion, "MANY_PARTS", -1)
        assert np.array_equal(by_boxes, drop_small_parts(matte, 0.4))
        monkeypatch.setattr(fusion, "MANY_PARTS", 32)


def test_every_part_keeps_every_part() -> None:
    params = FusionParams((1.0, 1.0), 0.4, 8.0, 0.5, agreement=2.0)
    kept = params.every_part()
    assert kept.parts == 0.0 and replace(kept, parts=0.5) == params


def test_selection_starts_from_numbers_that_know_no_photo() -> None:
    """k-fold selection starts from the neutral numbers, not from the shipped ones (chosen on
    every photo, held-out ones included): what it chooses does not depend on them."""
    shipped = FusionParams(
        (1.0, 0.0, 2.0),
        threshold=0.35,
        sharpen=12.0,
        parts=0.5,
        agreement=2.0,
    )
    start = evaluation.neutral(shipped, fixed={1})
    assert start == FusionParams(
        (1.0, 0.0, 1.0),  # the weight the selection may not change stays as shipped
        threshold=0.5,
        sharpen=4.0,
    )
    kept = evaluation.neutral(shipped, fixed={"agreement"})
    assert kept.agreement == 2.0 and kept.weights == (1.0, 1.0, 1.0)

    truth = (_person() >= 0.5).astype(np.float32)
    shifted = MemberMap(np.roll(_person(), 6, axis=1))
    items = [
        _collected(str(i), Evidence((40, 30), (MemberMap(_person()), shifted), 1.0), truth)
        for i in range(4)
    ]
    one = SimpleNamespace(params=FusionParams((1.0, 3.0), 0.25, 48.0, 0.6), fixed=frozenset())
    other = SimpleNamespace(params=FusionParams((1.0, 0.0), 0.55, 1.0), fixed=frozenset())
    chosen = evaluation.choose_on(items, one)  # type: ignore[arg-type]
    assert chosen == evaluation.choose_on(items, other)  # type: ignore[arg-type]
    assert chosen.weights[1] < 1.0  # the shifted member loses its say
