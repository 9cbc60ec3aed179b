"""What turns a photo into a matte: one catalog model (``ModelMatter``) or a pipeline
(``PresetMatter``, see ``humanseg.models.presets``); ``Resolver`` makes each once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np
from PIL import Image, ImageOps

from humanseg import imaging, matting
from humanseg.imaging import Picture, picture_size
from humanseg.models import geometry
from humanseg.models.faces import FaceDetector
from humanseg.models.fusion import Evidence, FusionParams, MemberMap, confidence, fuse_both
from humanseg.models.geometry import Box, size_of
from humanseg.models.presets import PRESETS, PresetSpec, model_specs, segmentation_spec
from humanseg.models.segmenter import ModelRegistry, Segmenter, Sighting

# Longest side of the photo that close-ups and the detector's square are cut from (cutting
# them from a 512 px copy lost small people's detail).
WORK_SIDE = 1024
# Longest side at which the members' maps are fused: twice the small models' 256 px input.
MAP_SIDE = 512
# The fused map's edge, upsampled bilinearly, spreads over as many photo pixels as a map pixel
# covers; steepened twice around 0.5 it is half as wide (still anti-aliased) and
# lies closer to the reference masks (MAD −0.0003 on the everyday set, −0.0005 to −0.0007 on
# the full-body one, k-fold held out); no pixel changes side of 0.5, so IoU does not move.
# Four times or a binary matte gain under 0.0001 more.
STEEPEN = 2.0
# The face detector's tiles are squares as large as the photo's short side: in a strip thinner
# than this a face is too small to find, and the tiles would be many (up to 32 at WORK_SIDE).
MIN_TILE = 64


@dataclass(frozen=True)
class Matte:
    alpha: np.ndarray  # uint8 at the photo's size, 255 = person
    confidence: float | None  # the matter's own estimate of its quality, in [0, 1]


class Matter(Protocol):
    name: str

    @property
    def input_size(self) -> tuple[int, int]: ...

    def matte(self, rgb: Picture, size: tuple[int, int]) -> Matte:
        """The matte at ``size`` (the photo's size; ``rgb`` may be a smaller draft)."""
        ...


class ModelMatter:
    """One catalog model, its map upsampled to the photo."""

    def __init__(self, segmenter: Segmenter) -> None:
        self.name = segmenter.spec.name
        self.segmenter = segmenter

    @property
    def input_size(self) -> tuple[int, int]:
        return self.segmenter.input_size

    def matte(self, rgb: Picture, size: tuple[int, int]) -> Matte:
        probability = self.segmenter.predict(rgb)
        evidence = Evidence(size_of(probability), (MemberMap(probability),), 1.0)
        params = FusionParams(weights=(1.0,), threshold=0.5, sharpen=1.0)
        return Matte(
            matting.upsample_matte(probability, size),
            confidence(evidence, params, probability),
        )


class PresetMatter:
    """A fusion of catalog models as described in ``humanseg.models.presets``."""

    def __init__(
        self,
        spec: PresetSpec,
        registry: ModelRegistry,
        faces: Callable[[], FaceDetector] | None = None,
        *,
        every_part: bool = False,
    ) -> None:
        self.name = spec.name
        self.spec = spec
        # the numbers it mattes with: the pipeline's, or those keeping every part
        self.params = spec.params.every_part() if every_part else spec.params
        self.guide = registry.get(spec.guide)
        self.members = [registry.get(member.model) for member in spec.members]
        gate = spec.gate
        self.detector = registry.get(gate.detector) if gate.detector else None
        self.faces = faces() if faces is not None and gate.faces else None
        self.landmarks = registry.get(gate.landmarks) if gate.landmarks else None

    @property
    def input_size(self) -> tuple[int, int]:
        width = max(segmenter.input_size[0] for segmenter in self.members)
        height = max(segmenter.input_size[1] for segmenter in self.members)
        zooms = any(member.view == "box" for member in self.spec.members)
        return (2 * width, 2 * height) if zooms else (width, height)

    def matte(self, rgb: Picture, size: tuple[int, int]) -> Matte:
        return self.matte_from(self.evidence(rgb), size, self.params)

    def matte_from(
        self,
        evidence: Evidence,
        size: tuple[int, int],
        params: FusionParams,
        *,
        steepen: float = STEEPEN,
    ) -> Matte:
        fused, before_edge = fuse_both(evidence, params)
        alpha = matting.upsample_matte(fused, size, steepen)
        return Matte(alpha, confidence(evidence, params, before_edge))

    def evidence(
        self,
        rgb: Picture,
        *,
        every_member: bool = False,
        mirror: bool = True,
        presence: float | None = None,
        dim: bool | None = None,
        turns: int | None = None,
    ) -> Evidence:
        """What the members say about the photo. Members with weight 0 are skipped unless
        ``every_member`` (to choose the weights, ``humanseg eval --folds`` needs them all).
        ``mirror=False`` skips the mirror-image passes; ``presence`` is the gate's factor when
        it is already known (the frames of a clip), so the detectors are not run again;
        ``dim``, whether the photo counts as dim or flat (``is_dim``), and ``turns``, the
        quarter turns that show the person upright (``Evidence.turns``), when already decided
        (for a clip, once: a stretch or a turn that comes and goes from frame to frame would
        flicker)."""
        # The models see 256–512 px and their maps are fused at MAP_SIDE px; only the
        # close-ups and the detector's square are cut from the photo at up to WORK_SIDE px,
        # so a small person keeps their pixels without full-size float maps of a large photo.
        pixels = _shrunk(rgb, WORK_SIDE)
        if turns:
            return self._upright(pixels, turns, every_member, mirror, presence, dim)
        spec = self.spec
        width, height = size_of(pixels)
        size = imaging.fit_size((width, height), MAP_SIDE)
        scale = width / size[0]  # from map pixels to ``pixels``' pixels
        # the first halvings of the photo serve the guide's input and the detector's
        feed = imaging.halved(pixels, self.guide.input_size)
        flip = mirror and spec.members[0].flip
        lead, lead_peak = self._predict(self.guide, feed, size, flip=flip)
        bounds = geometry.person_bounds(lead, spec.threshold)
        if dim is None:
            dim = _dim_or_flat(pixels, spec.stretch_from)
        below = None
        if bounds is None:
            # a dim or flat photo is looked at again stretched, as by the gate's other looks
            for look in (pixels, _stretched(pixels)) if dim else (pixels,):
                below = self._below_a_face(look, lead, size, scale, flip=flip)
                if below is not None:
                    # a face the detector is sure of, and the guide sees its person close up:
                    # the gate's face verdict, taken closer
                    lead, lead_peak = below[0], max(lead_peak, below[1])
                    bounds, presence = geometry.person_bounds(lead, spec.threshold), 1.0
                    break
        tiled = nobody = False
        seen_in = 1.0  # the share of the photo in which the guide's sighting is measured
        if bounds is None and spec.gate.guide_tiles:
            # Nobody in the squeezed photo. Someone lying down or upside down (whom the guide,
            # trained on upright people, misses) is looked for first, as the gate does
            # wherever the guide sees nobody; then a small person may show in its tiles.
            if turns is None:
                turn = self._presence(pixels, feed, None, size, scale, dim=dim)[1]
                if turn:
                    return self._upright(pixels, turn, every_member, mirror, None, dim)
            found = self._tiled_guide(pixels, lead, size, scale)
            if found is None:
                presence, nobody = 0.0, True  # the gate's answer where the guide sees nobody
            else:
                lead, lead_peak, seen_in = found[0], max(lead_peak, found[1]), found[2]
                bounds, tiled = geometry.person_bounds(lead, spec.threshold), True
        if (presence is None or bounds is None) and not nobody:
            presence, turn = self._presence(pixels, feed, bounds, size, scale, dim=dim, tiled=tiled)
            if turn and turns is None:
                # someone lying down or upside down: the models were trained on upright people
                return self._upright(pixels, turn, every_member, mirror, None, dim)
        if presence == 0.0:
            # what the guide saw in a tile counts as a share of that tile: an empty answer
            # where it saw someone fill a tile is no sure answer, however small they are
            seen = float(np.count_nonzero(lead >= spec.threshold)) / (lead.size * seen_in)
            return Evidence(size, (None,) * len(spec.members), 0.0, guide_saw=seen)
        if dim:
            # Someone in an underexposed or hazy photo: the models, trained on well-exposed
            # photos, see it with its levels stretched from here on. Only once the gate has
            # let it through: a flat clock face, stretched, looks enough like a person.
            pixels = _stretched(pixels)
            feed = imaging.halved(pixels, self.guide.input_size)
            lead, lead_peak = self._predict(self.guide, feed, size, flip=flip)
            if below is not None:  # the close-up below the face stays the guide's view
                lead, lead_peak = np.maximum(lead, below[0]), max(lead_peak, below[1])
            bounds = geometry.person_bounds(lead, spec.threshold) or bounds
        aspect = geometry.aspect(bounds)
        weights = spec.params.for_aspect(aspect).weights
        near: np.ndarray | None = None

        def near_the_person(segmenter: Segmenter, probability: np.ndarray, box: Box | None):
            """A general model's map kept only near the person the guide found."""
            nonlocal near
            if segmenter.spec.person_specific:
                return probability
            if near is None:
                near = matting.dilate_mask(lead >= spec.threshold, _near_radius(size))
            if box is not None:
                left, top, right, bottom = box
                return np.where(near[top:bottom, left:right], probability, np.float32(0.0))
            return np.where(near, probability, np.float32(0.0))

        maps: list[MemberMap | None] = []
        for member, segmenter, weight in zip(spec.members, self.members, weights, strict=True):
            if weight == 0.0 and not every_member:
                maps.append(None)
                continue
            if member.view == "photo":
                probability, peak = (
                    (lead, lead_peak)
                    if segmenter is self.guide
                    else self._predict(segmenter, pixels, size, flip=mirror and member.flip)
                )
                specific = segmenter.spec.person_specific
                near_map = near_the_person(segmenter, probability, None)
                maps.append(MemberMap(near_map, person_specific=specific, peak=peak))
                continue
            box = geometry.widened(bounds, member.margin, size)
            if box is None or (box == (0, 0, *size) and segmenter is self.guide):
                maps.append(None)  # no person, or the close-up would be the same input again
                continue
            if member.view == "square":
                square = geometry.square_around(box)
                close_up = geometry.crop_padded(pixels, geometry.scaled(square, scale))
                side = square[2] - square[0]
                probability, peak = self._predict(
                    segmenter, close_up, (side, side), flip=mirror and member.flip
                )
                box = geometry.clipped(square, size)
                left, top = box[0] - square[0], box[1] - square[1]
                probability = probability[
                    top : top + box[3] - box[1], left : left + box[2] - box[0]
                ]
            else:
                region = (box[2] - box[0], box[3] - box[1])
                close_up = geometry.cut(pixels, box, scale)
                probability, peak = self._predict(
                    segmenter, close_up, region, flip=mirror and member.flip
                )
            near_map = near_the_person(segmenter, probability, box)
            maps.append(MemberMap(near_map, box, segmenter.spec.person_specific, peak))
        colour = None
        if self.params.edge is not None or every_member:
            # bilinear: averaging over an odd ratio (1000 → 512 px) costs several milliseconds
            colour = imaging.resize_array(pixels, size, area=False)
        return Evidence(size, tuple(maps), presence, aspect, colour=colour)

    def _upright(
        self,
        pixels: np.ndarray,
        turns: int,
        every_member: bool,
        mirror: bool,
        presence: float | None,
        dim: bool | None,
    ) -> Evidence:
        """The evidence of ``pixels`` turned ``turns`` quarter turns counter-clockwise (the
        person upright), its maps turned back to the photo's frame. The gate looks again at
        the turned photo: the guide must see the person there too."""
        turned = np.ascontiguousarray(np.rot90(pixels, turns))
        evidence = self.evidence(
            turned, every_member=every_member, mirror=mirror, presence=presence, dim=dim, turns=0
        )
        back = -turns % 4
        members = tuple(
            None
            if member is None
            else replace(
                member,
                probability=np.ascontiguousarray(np.rot90(member.probability, back)),
                box=None
                if member.box is None
                else geometry.turned(member.box, evidence.size, back),
            )
            for member in evidence.members
        )
        size = evidence.size if turns % 2 == 0 else (evidence.size[1], evidence.size[0])
        colour = evidence.colour
        if colour is not None:
            colour = np.ascontiguousarray(np.rot90(colour, back))
        return replace(evidence, size=size, members=members, turns=turns % 4, colour=colour)

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
        if self.faces is None or not self.spec.gate.face_tiles or min(photo) < MIN_TILE:
            return None
        image = Image.fromarray(pixels)
        faces = [
            face for tile in geometry.square_tiles(photo) for face in self.faces.detect(image, tile)
        ]
        sure = [face for face in faces if face.score >= self.spec.gate.face_range[1]]
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
        for share in self.spec.gate.guide_tile_sides:
            side = round(share * min(photo))
            if side < MIN_TILE:
                break
            for tile in geometry.square_tiles(photo, side):
                seen = None if tile == whole else self._guide_close_up(pixels, tile, size, scale)
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
        probability, peak = self._predict(
            self.guide, geometry.cut(pixels, box, scale), (right - left, bottom - top), flip=flip
        )
        return box, probability, peak

    def is_dim(self, rgb: Picture) -> bool:
        """Whether the models see ``rgb`` with its levels stretched (``PresetSpec.stretch_from``)
        once the gate lets it through."""
        return _dim_or_flat(_shrunk(rgb, WORK_SIDE), self.spec.stretch_from)

    def _predict(
        self, segmenter: Segmenter, rgb: np.ndarray, size: tuple[int, int], *, flip: bool
    ) -> tuple[np.ndarray, float]:
        """The member's probability for ``rgb``, float32 in [0, 1], brought to ``size``, and
        its peak (``MemberMap.peak``): with ``flip``, the lower of the two passes' peaks."""
        tensor = segmenter.to_tensor(rgb)
        probability = segmenter.predict_tensor(tensor)
        peak = float(probability.max())
        if flip:  # the mirror image of the resized input: one resize, not two
            mirrored = segmenter.predict_tensor(_mirrored(tensor, segmenter.spec.preprocess.layout))
            peak = min(peak, float(mirrored.max()))
            probability = (probability + mirrored[:, ::-1]) * np.float32(0.5)
        return matting.upsample_probability(probability, size), peak

    def _presence(
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
            if self.detector is None or self.spec.gate.turn_from is None:
                return 0.0, 0
            return 0.0, self._turns(self.detector.sighting(feed))
        factor, turns = self._looks(rgb, feed, person, size, scale, tiled)
        if dim and (factor < 1.0 or turns):
            # a dim photo is turned, or not, as the detector sees it stretched, as the models
            # will: in the dark its key points can point anywhere
            again, turns = self._looks(
                _stretched(rgb), _stretched(feed), person, size, scale, tiled
            )
            factor = max(factor, again)
        return factor, turns

    def _turns(self, sighting: Sighting, sure: float | None = None) -> int:
        """The quarter turns that show ``sighting``'s person upright, if the detector is sure
        of them (``sure``, by default ``Gate.presence_range``'s top) and they are turned
        ``Gate.turn_from`` or more; else 0."""
        gate = self.spec.gate
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
        """``_presence``'s looks at ``rgb`` (and ``feed``, ``rgb`` halved) as they are; for a
        person only the guide's tiles showed (``tiled``), the stricter looks of
        ``Gate.tiled_pose_range``."""
        gate = self.spec.gate
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
        return min(flag, self.landmarks.presence_tensor(_mirrored(tensor, layout)))


def _dim_or_flat(rgb: np.ndarray, min_gain: float) -> bool:
    """Whether stretching ``rgb``'s brightness levels (the 1st to the 99th percentile) to the
    full range would multiply them by ``min_gain`` or more."""
    sample = rgb[:: max(1, rgb.shape[0] // 128), :: max(1, rgb.shape[1] // 128)]
    low, high = np.percentile(sample.mean(axis=2), (1.0, 99.0))
    return float(high - low) * min_gain <= 255.0


def _stretched(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` with each channel's levels stretched to 0 … 255 (which also evens out a colour
    cast), the 1 % darkest and brightest clipped."""
    return np.asarray(ImageOps.autocontrast(Image.fromarray(rgb), cutoff=1.0))


def _ramp(score: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return float(np.clip((score - low) / (high - low), 0.0, 1.0))


def _shrunk(rgb: Picture, side: int) -> np.ndarray:
    """The photo's pixels with the longest side at most ``side``. A Pillow image (a PNG or BMP)
    is shrunk by Pillow first, whose ``reduce`` works before a copy into an array, so a large
    photo is never copied whole; a JPEG's array (or a video frame) by ``imaging.resize_array``."""
    width, height = picture_size(rgb)
    if max(width, height) <= side:
        return np.asarray(rgb)
    if isinstance(rgb, np.ndarray):
        # halved while it can be, then bilinear for the last factor (under 2): averaging over
        # an odd ratio (1280 → 1024 px) costs OpenCV about 10 ms a megapixel, bilinear 1.5 ms,
        # and the models see the result shrunk four times further
        return imaging.resize_array(rgb, imaging.fit_size((width, height), side), area=False)
    factor = max(rgb.size) // side
    if factor >= 2:  # box-averaging by an integer factor is several times cheaper than resize
        rgb = rgb.reduce(factor)
        if max(rgb.size) <= side:
            return np.asarray(rgb)
    scale = side / max(rgb.size)
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    return np.asarray(rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))


def _mirrored(tensor: np.ndarray, layout: str) -> np.ndarray:
    """A model input (batch of one) flipped left to right."""
    if layout == "NHWC":  # OpenCV flips an H×W×C image several times faster than numpy copies
        return cv2.flip(tensor[0], 1)[None]
    return np.ascontiguousarray(tensor[..., ::-1])


def _near_radius(size: tuple[int, int]) -> int:
    return max(2, round(0.03 * max(size)))


class Resolver:
    """Turns a request's ``model`` into a loaded ``Matter``, each made once per process."""

    def __init__(
        self,
        registry: ModelRegistry,
        faces: Callable[[], FaceDetector] | None = None,
        *,
        every_part: bool = False,
    ) -> None:
        self.registry = registry
        self.faces = faces
        self.every_part = every_part  # ``PipelineSettings.keep_every_part``
        self._presets: dict[tuple[str, bool], PresetMatter] = {}
        self._lock = threading.Lock()

    def get(self, name: str, *, every_part: bool | None = None) -> Matter:
        """``every_part``: keep every separate part of a pipeline's matte (None: the
        server's setting); a single model keeps them all anyway."""
        if name not in PRESETS:
            return ModelMatter(self.registry.get(segmentation_spec(name).name))
        key = (name, self.every_part if every_part is None else every_part)
        loaded = self._presets.get(key)
        if loaded is None:
            with self._lock:
                loaded = self._presets.get(key)
                if loaded is None:
                    # the whole pipeline at once: nothing is pulled for a pipeline that
                    # cannot run here
                    self.registry.check_available(name, model_specs(name))
                    loaded = PresetMatter(
                        PRESETS[name], self.registry, self.faces, every_part=key[1]
                    )
                    self._presets[key] = loaded
        return loaded
