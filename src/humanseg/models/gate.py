"""The person gate at work: is anybody in the photo, where, and which way up?

The pipeline's guide model (``PresetSpec.guide``) marks where a person is; the gate's
detectors (``presets.Gate``) say whether it is one. ``PersonGate.find`` runs the guide and
every look the gate's rules call for, and answers with a ``Finding``: the guide's map, the
gate's factor, and the quarter turns that would show the person upright. ``PresetMatter``
then runs its members where the finding says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from PIL import Image, ImageOps

from humanseg import imaging
from humanseg.models import geometry
from humanseg.models.faces import FaceDetector
from humanseg.models.geometry import Box, size_of
from humanseg.models.presets import PresetSpec
from humanseg.models.segmenter import ModelRegistry, Sighting, mirrored

# The face detector's tiles are squares as large as the photo's short side: in a strip thinner
# than this a face is too small to find, and the tiles would be many (up to 32 at WORK_SIDE).
MIN_TILE = 64


@dataclass(frozen=True)
class Finding:
    """What the guide and the gate found in a photo (``PersonGate.find``)."""

    # the photo as the members are to see it: its levels stretched when ``dim``
    pixels: np.ndarray
    lead: np.ndarray  # the guide's map, at the map's size
    peak: float  # the guide's peak (``MemberMap.peak``)
    bounds: Box | None  # the person's bounds on that map
    presence: float  # the gate's factor in [0, 1]: 0, nobody
    dim: bool  # whether the photo counts as dim or flat (``PresetSpec.stretch_from``)
    # quarter turns counter-clockwise that show the person upright: look again turned
    turns: int = 0
    # for an empty answer: the share of the photo (or of the tile) the guide saw someone in
    guide_saw: float = 0.0


class PersonGate:
    """A pipeline's guide and the gate's detectors, as ``PresetSpec.gate`` describes them."""

    def __init__(
        self,
        spec: PresetSpec,
        registry: ModelRegistry,
        faces: Callable[[], FaceDetector] | None = None,
    ) -> None:
        self.spec = spec
        self.rules = spec.gate
        self.guide = registry.get(spec.guide)
        self.detector = registry.get(self.rules.detector) if self.rules.detector else None
        self.faces = faces() if faces is not None and self.rules.faces else None
        self.landmarks = registry.get(self.rules.landmarks) if self.rules.landmarks else None
        self.passes = registry.passes  # the tiles' looks side by side

    def find(
        self,
        pixels: np.ndarray,
        size: tuple[int, int],
        scale: float,
        *,
        flip: bool,
        presence: float | None = None,
        dim: bool | None = None,
        may_turn: bool = True,
        meanwhile: Callable[[np.ndarray, float, Box], object] | None = None,
    ) -> Finding:
        """The guide's map of ``pixels`` at ``size`` (``scale`` times smaller), with its mirror
        image's averaged in (``flip``), and the gate's verdict. ``presence``: the gate's factor
        when already known (a clip's frames), so the detectors are not asked again; ``dim``,
        whether the photo counts as dim or flat, when already decided; ``may_turn``: False
        when the photo is already turned as decided (the finding's ``turns`` is then 0).
        ``meanwhile`` is called with the guide's map, its peak and the person's bounds just
        before the detectors look at a person the guide found plainly (a photo neither dim nor
        flat, the person no speck), so that the members can start on them while the detectors
        decide; the finding then has that very map and those bounds if it lets them through
        unchanged."""
        spec = self.spec
        # the first halvings of the photo serve the guide's input and the detector's
        feed = imaging.halved(pixels, self.guide.input_size)
        lead, lead_peak = self.guide.predict_at(feed, size, flip=flip)
        bounds = geometry.person_bounds(lead, spec.threshold)
        if dim is None:
            dim = dim_or_flat(pixels, spec.stretch_from)
        below = None
        if bounds is None:
            # a dim or flat photo is looked at again stretched, as by the gate's other looks
            for look in (pixels, stretched(pixels)) if dim else (pixels,):
                below = self._below_a_face(look, lead, size, scale, flip=flip)
                if below is not None:
                    # a face the detector is sure of, and the guide sees its person close up:
                    # the gate's face verdict, taken closer
                    lead, lead_peak = below[0], max(lead_peak, below[1])
                    bounds, presence = geometry.person_bounds(lead, spec.threshold), 1.0
                    break
        tiled = nobody = False
        seen_in = 1.0  # the share of the photo in which the guide's sighting is measured
        refused = 0.0  # what the guide saw in tiles the stricter gate refused, as a share of one
        tiles: np.ndarray | None = None  # the guide's map with its tiles' maps pasted in
        if bounds is not None and self.rules.guide_tiles and self._a_speck(bounds, size):
            # The guide sees a speck of someone: a small person, squeezed into its 256 px
            # square, shows a few pixels over the threshold. The gate is asked about the speck
            # as always (and may turn the photo); then the guide's tiles may show all of them,
            # and if the stricter gate for what only the tiles show lets them through, the
            # tiles' map replaces the speck.
            known = presence is not None  # a clip's frames: the detectors are not asked again
            if presence is None:
                presence, turn = self.presence(pixels, feed, bounds, size, scale, dim=dim)
                if turn and may_turn:
                    return Finding(pixels, lead, lead_peak, bounds, presence, dim, turns=turn)
            found = self._tiled_guide(pixels, lead, size, scale)
            if found is not None:
                wider = geometry.person_bounds(found[0], spec.threshold)
                factor, turn = (
                    (presence, 0)
                    if known
                    else self.presence(pixels, feed, wider, size, scale, dim=dim, tiled=True)
                )
                if turn and may_turn:
                    return Finding(pixels, found[0], found[1], wider, factor, dim, turns=turn)
                if factor > 0.0:
                    tiles, lead_peak, seen_in = found[0], max(lead_peak, found[1]), found[2]
                    lead, bounds, tiled = tiles, wider, True
                    presence = max(presence, factor)
                else:
                    refused = self._seen(found[0], found[2])
        if bounds is None and self.rules.guide_tiles:
            # Nobody in the squeezed photo. Someone lying down or upside down (whom the guide,
            # trained on upright people, misses) is looked for first, as the gate does
            # wherever the guide sees nobody; then a small person may show in its tiles.
            if may_turn:
                turn = self.presence(pixels, feed, None, size, scale, dim=dim)[1]
                if turn:
                    return Finding(pixels, lead, lead_peak, None, 0.0, dim, turns=turn)
            found = self._tiled_guide(pixels, lead, size, scale)
            if found is None:
                presence, nobody = 0.0, True  # the gate's answer where the guide sees nobody
            else:
                tiles, lead_peak, seen_in = found[0], max(lead_peak, found[1]), found[2]
                lead, bounds, tiled = tiles, geometry.person_bounds(tiles, spec.threshold), True
        if meanwhile is not None and presence is None and bounds is not None and not dim:
            meanwhile(lead, lead_peak, bounds)
        if (presence is None or bounds is None) and not nobody:
            presence, turn = self.presence(pixels, feed, bounds, size, scale, dim=dim, tiled=tiled)
            if turn and may_turn:
                # someone lying down or upside down: the models were trained on upright people
                return Finding(pixels, lead, lead_peak, bounds, presence, dim, turns=turn)
        assert presence is not None
        if presence == 0.0:
            # what the guide saw in a tile counts as a share of that tile: an empty answer
            # where it saw someone fill a tile is no sure answer, however small they are
            seen = max(self._seen(lead, seen_in), refused)
            return Finding(pixels, lead, lead_peak, bounds, 0.0, dim, guide_saw=seen)
        if dim:
            # Someone in an underexposed or hazy photo: the models, trained on well-exposed
            # photos, see it with its levels stretched from here on. Only once the gate has
            # let it through: a flat clock face, stretched, looks enough like a person.
            pixels = stretched(pixels)
            feed = imaging.halved(pixels, self.guide.input_size)
            lead, lead_peak = self.guide.predict_at(feed, size, flip=flip)
            if below is not None:  # the close-up below the face stays the guide's view
                lead, lead_peak = np.maximum(lead, below[0]), max(lead_peak, below[1])
            if tiles is not None:  # and so do the maps of its tiles
                lead = np.maximum(lead, tiles)
            bounds = geometry.person_bounds(lead, spec.threshold) or bounds
        return Finding(pixels, lead, lead_peak, bounds, presence, dim)

    def _seen(self, lead: np.ndarray, share: float) -> float:
        """The share of the guide's map ``lead`` over the threshold, measured in a ``share`` of
        the photo (a tile's, for what the guide saw in its tiles)."""
        return float(np.count_nonzero(lead >= self.spec.threshold)) / (lead.size * share)

    def _a_speck(self, bounds: Box, size: tuple[int, int]) -> bool:
        """Whether the guide's region ``bounds`` on a map of ``size`` is too small for a person
        the models can matte (``Gate.guide_tiles_below``)."""
        left, top, right, bottom = bounds
        return max(right - left, bottom - top) < self.rules.guide_tiles_below * min(size)

    def _below_a_face(
        self,
        pixels: np.ndarray,
        lead: np.ndarray,
        size: tuple[int, int],
        scale: float,
        *,
        flip: bool,
    ) -> tuple[np.ndarray, float] | None:
        """The guide's map ``lead`` (of ``size``, ``scale`` times smaller than ``pixels``) with
        the guide's close-up of the region below the likeliest face pasted in, and that
        close-up's peak; None when no face reaches the top of ``Gate.face_range`` or the guide
        sees nobody there either.

        The guide sees the whole photo at 256 px, squeezed: in a wide photo, or in black and
        white, it can miss a person whose face the detector, looking at square tiles of the
        photo (``geometry.square_tiles``), still finds; close up, the guide sees them."""
        photo = size_of(pixels)
        if self.faces is None or not self.rules.face_tiles or min(photo) < MIN_TILE:
            return None
        image = Image.fromarray(pixels)
        tiles = geometry.square_tiles(photo)
        seen = self.passes.run(*(partial(self.faces.detect, image, tile) for tile in tiles))
        faces = [face for found in seen for face in found]
        sure = [face for face in faces if face.score >= self.rules.face_range[1]]
        if not sure:
            return None
        region = geometry.below_face(max(sure, key=lambda face: face.score).box, photo)
        if region is None:
            return None
        seen = self._guide_close_up(pixels, region, size, scale, flip=flip)
        if seen is None or float(seen[1].max()) < self.spec.threshold:
            return None
        (left, top, right, bottom), probability, peak = seen
        lead = lead.copy()
        lead[top:bottom, left:right] = np.maximum(lead[top:bottom, left:right], probability)
        return lead, peak

    def _tiled_guide(
        self, pixels: np.ndarray, lead: np.ndarray, size: tuple[int, int], scale: float
    ) -> tuple[np.ndarray, float, float] | None:
        """The guide's map ``lead`` (of ``size``, ``scale`` times smaller than ``pixels``) with
        its maps of square tiles of the photo pasted in, their peak, and one tile's share of
        the photo; None when it sees nobody in them either.

        Squeezed into its 256 px square, a person a third as high as the photo is a few
        dozen pixels wide, and the guide (a selfie model) sees nobody. Squares of
        ``Gate.guide_tile_sides`` of the photo's short side (as large, then half as large;
        ``geometry.square_tiles``) show them two to six times larger; the first size at which
        the guide sees someone is kept.
        Only one pass each (no mirror image): this runs on every photo where the guide sees
        nobody, person-free ones included."""
        photo = size_of(pixels)
        whole = (0, 0, *photo)
        out: np.ndarray | None = None
        peak = 0.0
        for share in self.rules.guide_tile_sides:
            side = round(share * min(photo))
            if side < MIN_TILE:
                break
            tiles = [tile for tile in geometry.square_tiles(photo, side) if tile != whole]
            looks = (partial(self._guide_close_up, pixels, tile, size, scale) for tile in tiles)
            for seen in self.passes.run(*looks):
                if seen is None or seen[2] < self.spec.threshold:
                    continue
                (left, top, right, bottom), probability, here = seen
                if out is None:
                    out = lead.copy()
                window = out[top:bottom, left:right]
                np.maximum(window, probability, out=window)
                peak = max(peak, here)
            if out is not None:
                return out, peak, min(1.0, side * side / (photo[0] * photo[1]))
        return None

    def _guide_close_up(
        self,
        pixels: np.ndarray,
        region: Box,
        size: tuple[int, int],
        scale: float,
        *,
        flip: bool = False,
    ) -> tuple[Box, np.ndarray, float] | None:
        """The guide's map of ``region`` of ``pixels`` seen close up: the region's box on the
        map of ``size`` (``scale`` times smaller than ``pixels``), the map there and its peak;
        None when the region has no pixel on that map."""
        box = geometry.clipped(geometry.scaled(region, 1.0 / scale), size)
        left, top, right, bottom = box
        if left >= right or top >= bottom:
            return None
        probability, peak = self.guide.predict_at(
            geometry.cut(pixels, box, scale), (right - left, bottom - top), flip=flip
        )
        return box, probability, peak

    def presence(
        self,
        rgb: np.ndarray,
        feed: np.ndarray,
        person: Box | None,
        size: tuple[int, int],
        scale: float,
        *,
        dim: bool,
        tiled: bool = False,
    ) -> tuple[float, int]:
        """The gate's factor in [0, 1], and the quarter turns that would show the person the
        pose detector is sure of upright (``Gate.turn_from``; 0: upright, or not sure).

        The factor is 1 when the pose detector or the face detector sees a
        person in a square around the region the guide found (``person``, the bounds of the
        guide's map of ``size``, ``scale`` times smaller than ``rgb``) or in the whole photo
        (``feed``: ``rgb`` halved), or when the landmark model's pose flag is high on squares
        around that region; 0 when none does. The squares are cut from ``rgb`` at its full
        working size: in a small copy a small person is a blur the detector misses. Each
        further look is only taken while the factor is below 1. A ``dim`` (or flat) photo
        that leaves them all in doubt gets the same looks again with its levels stretched to
        the full range: the detectors miss people in it that the guide sees (and whether
        to turn it is decided on those looks). When the guide
        sees nobody, the pose detector still looks at the whole photo for someone lying down
        (the guide, trained on upright people, misses them): the factor is 0 then, and the
        turns say whether to look again with the photo turned."""
        if self.detector is None and self.faces is None and self.landmarks is None:
            return 1.0, 0
        if person is None:
            if self.detector is None or self.rules.turn_from is None:
                return 0.0, 0
            return 0.0, self._turns(self.detector.sighting(feed))
        factor, turns = self._looks(rgb, feed, person, size, scale, tiled)
        if dim and (factor < 1.0 or turns):
            # a dim photo is turned, or not, as the detector sees it stretched, as the models
            # will: in the dark its key points can point anywhere
            again, turns = self._looks(stretched(rgb), stretched(feed), person, size, scale, tiled)
            factor = max(factor, again)
        return factor, turns

    def _turns(self, sighting: Sighting, sure: float | None = None) -> int:
        """The quarter turns that show ``sighting``'s person upright, if the detector is sure
        of them (``sure``, by default ``Gate.presence_range``'s top) and they are turned
        ``Gate.turn_from`` or more; else 0."""
        gate = self.rules
        sure = gate.presence_range[1] if sure is None else sure
        if gate.turn_from is None or sighting.score < sure:
            return 0
        return sighting.quarter_turns(gate.turn_from)

    def _looks(
        self,
        rgb: np.ndarray,
        feed: np.ndarray,
        person: Box,
        size: tuple[int, int],
        scale: float,
        tiled: bool = False,
    ) -> tuple[float, int]:
        """``presence``'s looks at ``rgb`` (and ``feed``, ``rgb`` halved) as they are; for a
        person only the guide's tiles showed (``tiled``), the stricter looks of
        ``Gate.tiled_pose_range``."""
        gate = self.rules
        box = geometry.widened(person, gate.margin, size)
        if box is None:
            return 0.0, 0
        square = geometry.square_around(geometry.scaled(box, scale))
        whole = square == (0, 0, *size_of(rgb))
        crop = feed if whole else geometry.crop_padded(rgb, square)
        factor, turns = 0.0, 0
        if self.detector is not None:
            sighting = self.detector.sighting(crop)
            if sighting.score < gate.presence_range[1] and not whole:
                # the whole photo may show them better
                sighting = max(sighting, self.detector.sighting(feed), key=lambda s: s.score)
            pose_range = gate.tiled_pose_range if tiled else gate.presence_range
            factor = _ramp(sighting.score, pose_range)
            turns = self._turns(sighting, pose_range[1])
        if factor < 1.0 and self.faces is not None:
            factor = max(factor, _ramp(self.faces.score(crop), gate.face_range))
        for margin in gate.landmark_margins if self.landmarks is not None and not tiled else ():
            if factor >= 1.0:
                break
            around = geometry.widened(person, margin, size)
            if around is not None:
                square = geometry.square_around(geometry.scaled(around, scale))
                flag = self._flag(geometry.crop_padded(rgb, square), gate.landmark_range[0])
                factor = max(factor, _ramp(flag, gate.landmark_range))
        return factor, turns

    def _flag(self, rgb: np.ndarray, low: float) -> float:
        """The landmark model's pose flag for ``rgb``: the lower of the photo's and its mirror
        image's (a shape that looks like someone only one way round is no sighting); the
        mirror image is skipped when the first is already under ``low``."""
        assert self.landmarks is not None
        tensor = self.landmarks.to_tensor(rgb)
        flag = self.landmarks.presence_tensor(tensor)
        if flag < low:
            return flag
        layout = self.landmarks.spec.preprocess.layout
        return min(flag, self.landmarks.presence_tensor(mirrored(tensor, layout)))


def dim_or_flat(rgb: np.ndarray, min_gain: float) -> bool:
    """Whether stretching ``rgb``'s brightness levels (the 1st to the 99th percentile) to the
    full range would multiply them by ``min_gain`` or more."""
    sample = rgb[:: max(1, rgb.shape[0] // 128), :: max(1, rgb.shape[1] // 128)]
    low, high = np.percentile(sample.mean(axis=2), (1.0, 99.0))
    return float(high - low) * min_gain <= 255.0


def stretched(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` with each channel's levels stretched to 0 … 255 (which also evens out a colour
    cast), the 1 % darkest and brightest clipped."""
    return np.asarray(ImageOps.autocontrast(Image.fromarray(rgb), cutoff=1.0))


def _ramp(score: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return float(np.clip((score - low) / (high - low), 0.0, 1.0))
