"""How a pipeline's evidence becomes one matte: pure functions on probability maps.

``Evidence`` is what a pipeline's models said about one photo (each member's map, where it
looked, and the person gate's verdict), before any of the pipeline's tunable numbers are
applied. ``fuse`` applies them (member weights, threshold, sharpening), so the same evidence
can be fused again with other numbers: that is how ``humanseg eval --folds`` chooses them
without running the models once per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from humanseg.models import edges
from humanseg.models.edges import EdgeModel
from humanseg.models.geometry import Box

# Results whose confidence is under this are worth a person's look (the batch summaries list
# them): on the dev sets, most results with IoU under 0.85 are.
REVIEW_BELOW = 0.5
# An empty answer where the guide model saw a person over this share of the photo has no
# confidence (half of it: confidence 0.5).
UNSURE_EMPTY_SHARE = 0.2


@dataclass(frozen=True)
class MemberMap:
    """One member's probability (float32 in [0, 1]) over ``box`` of the fused map, or over
    the whole map when ``box`` is None."""

    probability: np.ndarray
    box: Box | None = None
    person_specific: bool = True  # False: a general (salient-object) model
    # the model's highest probability, on the photo and (when averaged with it) on its mirror
    # image, the lower of the two; None: the map's own maximum
    peak: float | None = None


@dataclass(frozen=True)
class Evidence:
    size: tuple[int, int]  # (width, height) of the fused map
    members: tuple[MemberMap | None, ...]  # in the pipeline's member order; None: not run
    presence: float  # the person gate's factor in [0, 1] (0: nobody, the matte is empty)
    aspect: float = 1.0  # height / width of the box around the person the guide found
    # with ``presence`` 0: the share of the map where the guide model still saw a person (of
    # the tile it saw them in, where only the guide's tiles showed them)
    guide_saw: float = 0.0
    # quarter turns counter-clockwise the photo was given for the models to see the person
    # upright (someone lying down, or upside down); the maps are back in the photo's frame
    turns: int = 0
    # the photo as the models saw it (levels stretched, if so), at the fused map's size:
    # uint8 RGB, what the learned edge step reads; None: no edge step possible
    colour: np.ndarray | None = None


@dataclass(frozen=True)
class FusionParams:
    """The numbers a pipeline's fusion is tuned with."""

    weights: tuple[float, ...]  # one per member
    threshold: float = 0.5  # the fused probability that becomes 0.5
    sharpen: float = 4.0  # the slope around it
    # a separate part of the matte with less than this share of the largest part's area is
    # dropped (0: every part kept); see ``drop_small_parts``
    parts: float = 0.0
    # each member's weight is scaled, photo by photo, by its agreement with the members'
    # weighted mean (soft IoU, over where it looked) raised to this power, so a member that
    # fails on this photo (MODNet on several people in the dark) counts less there; 0: the
    # weights as they are. See ``agreed_weights``
    agreement: float = 0.0
    # the learned edge step (``humanseg.models.edges``), applied after the rest
    edge: EdgeModel | None = None

    def every_part(self) -> FusionParams:
        """These numbers with every separate part of the matte kept."""
        return replace(self, parts=0.0)


def fuse(evidence: Evidence, params: FusionParams) -> np.ndarray:
    """The members' weighted mean, sharpened around ``threshold`` and scaled by the gate.

    A member that saw only a box (a close-up) counts only inside that box. With
    ``params.edge`` (and the photo's colour in the evidence), the learned edge step decides the
    pixels near the outline again."""
    return fuse_both(evidence, params)[0]


def fuse_both(evidence: Evidence, params: FusionParams) -> tuple[np.ndarray, np.ndarray]:
    """``fuse``'s matte, and the fusion before its edge step (the same array without one):
    how much the members disagree is measured on that (``confidence``), since the edge step
    moves the outline away from all of them alike."""
    edge = params.edge
    if evidence.presence == 0.0 or _doubted(evidence, params):
        empty = np.zeros(evidence.size[::-1], dtype=np.float32)
        return empty, empty
    before, mean = _fused(evidence, params)
    out = before
    if edge is not None and evidence.colour is not None:
        found = _edge_rows(evidence, before, mean, edge.band)
        if found is not None:
            out = edges.refine(before, found[1], found[0], edge, evidence.aspect)
    if evidence.presence != 1.0:
        factor, same = np.float32(evidence.presence), before is out
        out = out * factor
        before = out if same else before * factor
    return out, before


def edge_rows(
    evidence: Evidence, params: FusionParams, band: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The pixels near the outline of the fusion with ``params`` (without an edge step), and
    their features for the learned edge step; None where the matte is empty."""
    if evidence.presence == 0.0 or evidence.colour is None or _doubted(evidence, params):
        return None
    out, mean = _fused(evidence, params)
    return _edge_rows(evidence, out, mean, band)


def _edge_rows(
    evidence: Evidence, fused: np.ndarray, mean: np.ndarray, band: int
) -> tuple[np.ndarray, np.ndarray] | None:
    assert evidence.colour is not None
    where, signed = edges.band_of(fused, band)
    if where.size == 0:
        return None
    mean_here = mean.ravel()[where]
    members = [_member_at(member, mean_here, where, fused.shape[1]) for member in evidence.members]
    return where, edges.features(fused, mean_here, members, evidence.colour, where, signed, band)


def _member_at(
    member: MemberMap | None, mean_here: np.ndarray, where: np.ndarray, width: int
) -> np.ndarray:
    """A member's probability at the pixels ``where`` (flat indices into the fused map): the
    members' mean where it did not look."""
    if member is None:
        return mean_here
    if member.box is None:
        return member.probability.ravel()[where]
    left, top, right, bottom = member.box
    ys, xs = np.divmod(where, width)
    inside = (ys >= top) & (ys < bottom) & (xs >= left) & (xs < right)
    out = mean_here.copy()
    out[inside] = member.probability[ys[inside] - top, xs[inside] - left]
    return out


def _fused(evidence: Evidence, params: FusionParams) -> tuple[np.ndarray, np.ndarray]:
    """The sharpened fusion of a photo with a person (before the gate's factor), and the
    members' mean it was sharpened from."""
    mean = _agreed_mean(evidence, params.weights, params.agreement)
    people: np.ndarray | None = None  # the person models' own say, with general members
    general = zip(evidence.members, params.weights, strict=True)
    if any(m is not None and w and not m.person_specific for m, w in general):
        weights = tuple(
            w if m is not None and m.person_specific else 0.0
            for m, w in zip(evidence.members, params.weights, strict=True)
        )
        if any(weights):
            alone = _agreed_mean(evidence, weights, params.agreement)
            people = alone >= params.threshold
            # A general model can miss a person who does not stand out (and outvote the
            # person models): when the fusion keeps less than half of what the person models
            # alone mark, they decide alone. An empty matte for a person is the worst answer.
            if np.count_nonzero(mean >= params.threshold) < KEEP_AT_LEAST * np.count_nonzero(
                people
            ):
                mean = alone
    out = sharpen(mean, params.sharpen, params.threshold)
    if params.parts:
        out = drop_small_parts(out, params.parts, people)
    return out, mean


# With general members, the fusion keeps at least this share of the person models' own area.
KEEP_AT_LEAST = 0.5


def _doubted(evidence: Evidence, params: FusionParams) -> bool:
    """A gate in doubt (factor under 1) and a person model that sees nobody: nobody. A flat
    micrograph can look enough like a person to the pose detector and to one model, hardly to
    every model trained on people; no photo of a person in the dev sets has a doubting gate.
    A model run on the photo and its mirror image must see someone on both (its ``peak``):
    the average of a pass that sees a person and one that does not is no sighting."""
    if evidence.presence >= 1.0:
        return False
    return any(
        member is not None
        and weight
        and member.person_specific
        and _peak(member) < params.threshold
        for member, weight in zip(evidence.members, params.weights, strict=True)
    )


def _peak(member: MemberMap) -> float:
    return float(member.probability.max()) if member.peak is None else member.peak


def _agreed_mean(evidence: Evidence, weights: tuple[float, ...], agreement: float) -> np.ndarray:
    """The members' mean, each weighted by ``agreed_weights``."""
    mean = _weighted_mean(evidence, weights)
    if not agreement:
        return mean
    return _weighted_mean(evidence, agreed_weights(evidence, weights, agreement, mean))


def agreed_weights(
    evidence: Evidence,
    weights: tuple[float, ...],
    agreement: float,
    mean: np.ndarray | None = None,
) -> tuple[float, ...]:
    """``weights``, each times its member's soft IoU with the members' weighted ``mean`` (over
    the member's box, for a close-up) to the power ``agreement``.

    Which member fails differs from photo to photo, and the fixed weights, chosen over many
    photos, cannot know it: on the dev sets (k-fold) this lowers ``balanced``'s MAD by a
    sixth, mostly by overruling a member that misses the person there."""
    if mean is None:
        mean = _weighted_mean(evidence, weights)
    out = []
    for member, weight in zip(evidence.members, weights, strict=True):
        if member is None or weight == 0.0:
            out.append(weight)
            continue
        seen = mean
        if member.box is not None:
            left, top, right, bottom = member.box
            seen = mean[top:bottom, left:right]
        out.append(weight * soft_iou(member.probability, seen) ** agreement)
    return tuple(out)


def soft_iou(first: np.ndarray, second: np.ndarray) -> float:
    """The IoU of two probability maps (products for the intersection); 1 for two empty
    maps."""
    both = float(np.dot(first.ravel(), second.ravel()))
    union = float(first.sum(dtype=np.float64) + second.sum(dtype=np.float64)) - both
    return both / union if union > 0.0 else 1.0


def _weighted_mean(evidence: Evidence, weights: tuple[float, ...]) -> np.ndarray:
    """The members' mean with ``weights``; a close-up counts only inside its box."""
    width, height = evidence.size
    total = np.zeros((height, width), dtype=np.float32)
    weight_sum = np.zeros((height, width), dtype=np.float32)
    whole_weight = 0.0
    for member, weight in zip(evidence.members, weights, strict=True):
        if member is None or weight == 0.0:
            continue
        if member.box is None:
            total += member.probability * np.float32(weight)
            whole_weight += weight
        else:
            left, top, right, bottom = member.box
            total[top:bottom, left:right] += member.probability * np.float32(weight)
            weight_sum[top:bottom, left:right] += np.float32(weight)
    weight_sum += np.float32(whole_weight)
    np.maximum(weight_sum, np.float32(1e-6), out=weight_sum)
    total /= weight_sum
    return total


# Soft pixels within this many pixels of a kept part belong to it (its edge); farther ones go.
PART_EDGE = 3
# Over this many parts to drop, they are dropped by one lookup over the whole map.
MANY_PARTS = 32


def drop_small_parts(
    matte: np.ndarray, share: float, people: np.ndarray | None = None
) -> np.ndarray:
    """``matte`` with only its parts (connected regions of values ≥ 0.5) of at least ``share``
    of the largest one, and the soft pixels at their edges.

    What this drops is mostly a general model's stray object (a bag on a chair, a coat on a
    hook) or a passer-by far smaller than the subject: reference masks, hand-drawn or from a
    commercial service, leave them out. k-fold selection chooses ``share`` with the other
    numbers; a group of people of similar size is kept whole. With ``people`` (where the
    person models alone see a person), a part is measured by its pixels there, so a general
    model's object larger than the person never outweighs them."""
    person = (matte >= 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(person, connectivity=8)
    if count <= 1:
        return matte
    if people is None:
        sizes = stats[1:, cv2.CC_STAT_AREA]
    else:
        sizes = np.bincount(labels[people], minlength=count)[1:]
    dropped = np.flatnonzero(sizes < share * sizes.max()) + 1
    if dropped.size > MANY_PARTS:
        kept = np.ones(count, dtype=np.uint8)
        kept[0] = 0
        kept[dropped] = 0
        person = kept[labels]
    else:  # a few parts go: only their boxes are looked at (a full-map lookup costs ~1 ms)
        for label in dropped:
            left, top, width, height = stats[label, :4]
            window = person[top : top + height, left : left + width]
            window[labels[top : top + height, left : left + width] == label] = 0
    side = 2 * PART_EDGE + 1
    near = cv2.dilate(person, np.ones((side, side), np.uint8))
    return np.where(near.astype(bool), matte, np.float32(0.0))


def sharpen(probability: np.ndarray, gain: float, center: float = 0.5) -> np.ndarray:
    """Steeper by ``gain`` around ``center``, which moves to 0.5; clipped to [0, 1]."""
    if gain == 1.0 and center == 0.5:
        return probability
    out = probability - np.float32(center)
    out *= np.float32(gain)
    out += np.float32(0.5)
    return np.clip(out, 0.0, 1.0, out=out)


def confidence(evidence: Evidence, params: FusionParams, fused: np.ndarray) -> float:
    """The pipeline's own estimate, in [0, 1], of how good ``fused`` is.

    From what it has: how much the members disagree with the fused answer about which pixels
    are the person, and how wide each member's own band of undecided pixels is, both relative
    to the person's area (on the dev sets these two rank the bad results best of the cues
    tried: the fused map's band, the strongest dissent, the maps' spread). An empty answer
    from the gate is as sure as the guide model agrees: confident where it saw nobody either
    (a page of text), not where it saw a person over a fifth of the photo (a cup, or a person
    the detectors miss: they lean on colour, and miss some people in black-and-white photos)."""
    if evidence.presence == 0.0:
        return float(np.clip(1.0 - evidence.guide_saw / UNSURE_EMPTY_SHARE, 0.0, 1.0))
    person = fused >= 0.5
    area = float(np.count_nonzero(person))
    if area == 0.0:
        return 0.0
    disagreement = undecided = voters = 0.0
    for member, weight in zip(evidence.members, params.weights, strict=True):
        if member is None or weight == 0.0:
            continue
        mine = person
        if member.box is not None:
            left, top, right, bottom = member.box
            mine = person[top:bottom, left:right]
        says = member.probability >= params.threshold
        disagreement += weight * float(np.count_nonzero(says != mine))
        soft = (member.probability > 0.1) & (member.probability < 0.9)
        undecided += weight * float(np.count_nonzero(soft))
        voters += weight
    disagreement /= max(voters, 1e-6) * area
    undecided /= max(voters, 1e-6) * area
    score = (1.0 - min(1.0, 2.0 * disagreement)) * (1.0 - min(1.0, undecided))
    return float(np.clip(score * min(1.0, evidence.presence), 0.0, 1.0))
