"""What turns a photo into a matte: one catalog model (``ModelMatter``) or a pipeline
(``PresetMatter``, see ``humanseg.models.presets``); ``Resolver`` makes each once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, partial
from typing import Protocol

import cv2
import numpy as np
from PIL import Image

from humanseg import imaging, matting
from humanseg.imaging import Picture, picture_size
from humanseg.models import geometry
from humanseg.models.faces import FaceDetector
from humanseg.models.fusion import Evidence, FusionParams, MemberMap, confidence, fuse_both
from humanseg.models.gate import PersonGate, dim_or_flat
from humanseg.models.geometry import Box, size_of
from humanseg.models.passes import Pending
from humanseg.models.presets import PRESETS, Member, PresetSpec, model_specs, segmentation_spec
from humanseg.models.segmenter import ModelRegistry, Segmenter

# Longest side of the photo that close-ups and the detector's square are cut from (cutting
# them from a 512 px copy lost small people's detail).
WORK_SIDE = 1024
# Longest side at which the members' maps are fused: twice the small models' 256 px input.
MAP_SIDE = 512
# ... or more (up to the photo's working size), so that the person's box is at least this
# high or wide on it: a person far off keeps the detail of the close-ups, which see them at
# their models' full input, instead of having it shrunk into a few dozen map pixels.
PERSON_ON_MAP = 320
# ... but only by this factor or more: a map a quarter larger (a 640 px photo's whole width)
# gives the close-ups little back, and moves the outline the fusion's numbers were chosen on
# (`quality` lost 0.002 mIoU held out on the everyday photos with it)
MIN_GROWTH = 1.5
# The fused map's edge, upsampled bilinearly, spreads over as many photo pixels as a map pixel
# covers; steepened twice around 0.5 it is half as wide (still anti-aliased) and
# lies closer to the reference masks (MAD −0.0003 on the everyday set, −0.0005 to −0.0007 on
# the full-body one, k-fold held out); no pixel changes side of 0.5, so IoU does not move.
# Four times or a binary matte gain under 0.0001 more.
STEEPEN = 2.0


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
        self.gate = PersonGate(spec, registry, faces)
        self.guide = self.gate.guide
        self.members = [registry.get(member.model) for member in spec.members]
        self.passes = registry.passes

    @cached_property  # asked on every request (the JPEG draft size); the members never change
    def input_size(self) -> tuple[int, int]:
        sizes = [
            member.input_size(segmenter.input_size)
            for member, segmenter in zip(self.spec.members, self.members, strict=True)
        ]
        width = max(size[0] for size in sizes)
        height = max(size[1] for size in sizes)
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
        flip = mirror and spec.members[0].flip
        early: list[_Members] = []

        def meanwhile(lead: np.ndarray, lead_peak: float, bounds: Box) -> None:
            # the members start on the person the guide found while the detectors look
            early.append(
                self._start(pixels, size, lead, lead_peak, bounds, True, mirror, every_member)
            )

        found = self.gate.find(
            pixels,
            size,
            scale,
            flip=flip,
            presence=presence,
            dim=dim,
            may_turn=turns is None,
            meanwhile=meanwhile if self.passes.workers else None,
        )
        started = early[0] if early else None
        if started is not None and not (
            found.presence >= 1.0
            and not found.turns
            and found.pixels is pixels
            and found.lead is started.lead
            and found.peak == started.view.lead_peak
            and found.bounds == started.bounds
        ):
            started.pending.abandon()  # the detectors decided otherwise: the work is dropped
            started = None
        if found.turns:
            # someone lying down or upside down: the models were trained on upright people
            return self._upright(pixels, found.turns, every_member, mirror, None, found.dim)
        if found.presence == 0.0:
            return Evidence(size, (None,) * len(spec.members), 0.0, guide_saw=found.guide_saw)
        if started is None:
            # while the gate doubts, every member runs: its "nobody" is a veto (``_doubted``)
            sure = found.presence >= 1.0
            started = self._start(
                found.pixels, size, found.lead, found.peak, found.bounds, sure, mirror, every_member
            )
        results = started.pending.results()
        colour = results.pop() if started.with_colour else None
        done = dict(zip(started.side, results, strict=True))
        view = started.view
        done.update((i, self._member_map(i, view)) for i in started.running if i not in done)
        maps = tuple(done.get(index) for index in range(len(spec.members)))
        return Evidence(view.size, maps, found.presence, started.aspect, colour=colour)

    def _start(
        self,
        pixels: np.ndarray,
        size: tuple[int, int],
        lead: np.ndarray,
        lead_peak: float,
        bounds: Box | None,
        sure: bool,
        mirror: bool,
        every_member: bool,
    ) -> _Members:
        """The members' passes on the person the guide found at ``bounds`` on its map ``lead``
        (of ``size``), started side by side; ``sure``: the gate's factor is 1."""
        spec = self.spec
        width = pixels.shape[1]
        scale = width / size[0]  # from map pixels to ``pixels``' pixels
        # taken on the guide's own map: the box scaled to a larger one is rounded, and the
        # edge step's coefficients for someone standing apply from a ratio it must not cross
        aspect = geometry.aspect(bounds)
        guide_lead, guide_bounds = lead, bounds  # as the gate found them
        larger = _map_for_person(size, bounds, size_of(pixels))
        if larger != size:
            lead = cv2.resize(lead, larger, interpolation=cv2.INTER_LINEAR)
            bounds = geometry.scaled(bounds, larger[0] / size[0]) if bounds else None
            size, scale = larger, width / larger[0]
        weights = spec.params.weights
        running = [index for index, weight in enumerate(weights) if weight != 0.0 or every_member]
        near: np.ndarray | None = None  # where a general model's map counts: near the person
        if any(not self.members[index].spec.person_specific for index in running):
            near = matting.dilate_mask(lead >= spec.threshold, _near_radius(size))
        view = _View(pixels, size, scale, bounds, lead, lead_peak, near, sure, mirror)
        # a member whose session uses several cores runs alone, after; the others side by side
        side = [index for index in running if self.members[index].single_threaded]
        calls: list[Callable[[], object]] = [partial(self._member_map, i, view) for i in side]
        with_colour = self.params.edge is not None or every_member
        if with_colour:
            # bilinear: averaging over an odd ratio (1000 → 512 px) costs several milliseconds
            calls.append(partial(imaging.resize_array, pixels, size, area=False))
        pending = self.passes.start(*calls)
        return _Members(guide_lead, guide_bounds, aspect, view, running, side, with_colour, pending)

    def _member_map(self, index: int, view: _View) -> MemberMap | None:
        """What member ``index`` says about the photo seen as ``view``; None where it does not
        look (the person too small for it, or no person's box to look at)."""
        member, segmenter = self.spec.members[index], self.members[index]
        pixels, size, bounds, mirror = view.pixels, view.size, view.bounds, view.mirror
        if member.view == "photo":
            if view.sure and _too_small(member, segmenter, bounds, size):
                return None
            probability, peak = (
                (view.lead, view.lead_peak)
                if segmenter is self.guide
                else segmenter.predict_at(
                    pixels, size, flip=mirror and member.flip, short_side=member.short_side
                )
            )
            return MemberMap(
                view.near_the_person(segmenter, probability, None),
                None,
                segmenter.spec.person_specific,
                peak,
            )
        box = geometry.widened(bounds, member.margin, size)
        if box is None or (box == (0, 0, *size) and segmenter is self.guide):
            return None  # no person, or the close-up would be the same input again
        if member.view == "square":
            square = geometry.square_around(box)
            side = square[2] - square[0]
            if view.sure and _too_small(member, segmenter, bounds, (side, side)):
                return None
            close_up = geometry.crop_padded(pixels, geometry.scaled(square, view.scale))
            probability, peak = segmenter.predict_at(
                close_up, (side, side), flip=mirror and member.flip, short_side=member.short_side
            )
            box = geometry.clipped(square, size)
            left, top = box[0] - square[0], box[1] - square[1]
            probability = probability[top : top + box[3] - box[1], left : left + box[2] - box[0]]
        else:
            region = (box[2] - box[0], box[3] - box[1])
            if view.sure and _too_small(member, segmenter, bounds, region):
                return None
            close_up = geometry.cut(pixels, box, view.scale)
            probability, peak = segmenter.predict_at(
                close_up, region, flip=mirror and member.flip, short_side=member.short_side
            )
        near_map = view.near_the_person(segmenter, probability, box)
        return MemberMap(near_map, box, segmenter.spec.person_specific, peak)

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

    def is_dim(self, rgb: Picture) -> bool:
        """Whether the models see ``rgb`` with its levels stretched (``PresetSpec.stretch_from``)
        once the gate lets it through."""
        return dim_or_flat(_shrunk(rgb, WORK_SIDE), self.spec.stretch_from)


@dataclass(frozen=True)
class _Members:
    """A pipeline's members started on the person the guide found (``PresetMatter._start``)."""

    lead: np.ndarray  # the guide's map they were started on, as the gate found it
    bounds: Box | None  # the person's bounds on it
    aspect: float
    view: _View
    running: list[int]  # the members that run
    side: list[int]  # those of them side by side, in ``pending`` (then the colour)
    with_colour: bool  # the photo's colour at the map's size last in ``pending``
    pending: Pending


@dataclass(frozen=True)
class _View:
    """The photo as the members see it, once the gate has found the person."""

    pixels: np.ndarray  # the working pixels (levels stretched, if so)
    size: tuple[int, int]  # the fused map's (width, height)
    scale: float  # from map pixels to ``pixels``' pixels
    bounds: Box | None  # the person's box on the map
    lead: np.ndarray  # the guide's map
    lead_peak: float
    near: np.ndarray | None  # where a general model's map counts (None: no general member)
    sure: bool  # the gate is sure (factor 1): members may skip a person too small for them
    mirror: bool  # mirror-image passes allowed

    def near_the_person(
        self, segmenter: Segmenter, probability: np.ndarray, box: Box | None
    ) -> np.ndarray:
        """A general model's map kept only near the person the guide found."""
        if segmenter.spec.person_specific or self.near is None:
            return probability
        if box is not None:
            left, top, right, bottom = box
            return np.where(self.near[top:bottom, left:right], probability, np.float32(0.0))
        return np.where(self.near, probability, np.float32(0.0))


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


def _map_for_person(
    size: tuple[int, int], bounds: Box | None, pixels: tuple[int, int]
) -> tuple[int, int]:
    """The size of the map to fuse on: ``size``, or larger where the person's box (``bounds``
    on a map of ``size``) is smaller than ``PERSON_ON_MAP``, up to the working pixels'
    ``pixels``, when that makes it at least ``MIN_GROWTH`` times as large."""
    if bounds is None:
        return size
    person = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    if person >= PERSON_ON_MAP or size[0] >= pixels[0]:
        return size
    factor = min(PERSON_ON_MAP / max(person, 1), pixels[0] / size[0])
    if factor < MIN_GROWTH:
        return size
    return imaging.fit_size(pixels, round(max(size) * factor))


def _too_small(
    member: Member, segmenter: Segmenter, bounds: Box | None, view: tuple[int, int]
) -> bool:
    """Whether ``member`` would see the person (``bounds``, in the same pixels as ``view``)
    under its ``min_person`` pixels high."""
    if member.min_person is None or bounds is None:
        return False
    person = bounds[3] - bounds[1]
    return member.seen_height(person, view, segmenter.spec) < member.min_person


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
