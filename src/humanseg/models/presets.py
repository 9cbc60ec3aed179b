"""Named pipelines (``auto``, ``quality``) that fuse catalog models, and the single-model path.

A request's ``model`` names either a catalog model or a pipeline here; ``Resolver.get`` turns
either into a ``Matter``: RGB photo in, uint8 matte at the photo's size out. Pipelines reuse the
``Segmenter`` instances of the ``ModelRegistry``, so each model's sessions exist once per process.

How a pipeline makes its matte (each step measured on the dev set; see README, "Quality"):

1. the ``guide``, a person-specific model, predicts on the photo (and, with ``flip``, on its
   mirror image, averaged back): where is the person?
2. a person detector (``detector``) looks at the photo and at a square around the region the
   guide found (enlarged by ``detector_margin``); its higher score is mapped linearly from
   ``presence_range`` to a factor in [0, 1] that scales the matte, so a cat or a cup gets an
   empty matte instead of a confident cut-out (segmentation models outline whatever stands
   out, person or not);
3. with ``zoom``, the guide runs again on the bounding box of the person (pixels above
   ``threshold``, enlarged by ``zoom_margin``) and that close-up is averaged into its map:
   small people get many more model pixels (skipped when the box is the whole photo);
4. the other ``members`` predict on the photo (with ``flip`` too), the ``box_members`` on the
   guide's person box widened by their margin (a close-up: a small person gets the model's
   whole input), and all maps are averaged with their weights; general (not person-specific)
   members only count near the person the guide found, so cars, dogs and furniture stay out;
5. the fused probability is sharpened (``sharpen``) around ``threshold``, which then maps to
   0.5: the mean absolute difference drops, and a threshold below 0.5 corrects the person
   models' habit of under-reaching at thin parts and edges.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from PIL import Image

from humanseg import matting
from humanseg.errors import error
from humanseg.imaging import Picture, picture_size
from humanseg.models.catalog import CATALOG, ModelSpec, get_spec
from humanseg.models.segmenter import ModelRegistry, Segmenter
from humanseg.models.store import ModelStore
from humanseg.settings import Settings


@dataclass(frozen=True)
class PresetSpec:
    name: str
    description: str
    guide: str  # the person-specific member whose map says where the person is
    members: tuple[tuple[str, float], ...]  # (catalog model, weight), the guide included
    # (catalog model, weight, margin): members that see only the person's box, each side
    # widened by margin times the box's size
    box_members: tuple[tuple[str, float, float], ...] = ()
    flip: bool = True
    zoom: bool = True
    zoom_margin: float = 0.1
    zoom_weight: float = 1.0
    threshold: float = 0.5
    sharpen: float = 4.0
    detector: str | None = "pose-detection"
    detector_margin: float = 0.2
    presence_range: tuple[float, float] = (0.25, 0.35)

    @property
    def models(self) -> tuple[str, ...]:
        names = [name for name, _ in self.members]
        names += [name for name, _, _ in self.box_members if name not in names]
        for extra in (self.guide, self.detector):
            if extra and extra not in names:
                names.append(extra)
        return tuple(names)


AUTO = PresetSpec(
    name="auto",
    description="Default: selfie with mirror-image averaging and a zoomed second pass on the "
    "person, sharpened; empty when a person detector sees nobody. Fast on a CPU.",
    guide="selfie",
    members=(("selfie", 1.0),),
    zoom_margin=0.05,
    threshold=0.4,
)

QUALITY = PresetSpec(
    name="quality",
    description="Slower, better: auto's zoomed selfie, MODNet, and U²-Net-p on the photo and "
    "on the person's box, averaged. Needs onnxruntime.",
    guide="selfie",
    members=(("selfie", 1.0), ("modnet", 1.0), ("u2netp", 1.0)),
    box_members=(("u2netp", 1.0, 0.25),),
    zoom_margin=0.05,
    threshold=0.3,
    sharpen=8.0,
)

PRESETS: dict[str, PresetSpec] = {preset.name: preset for preset in (AUTO, QUALITY)}


def model_specs(name: str) -> list[ModelSpec]:
    """The catalog models that ``name`` (a model or a pipeline) needs."""
    if name in PRESETS:
        return [get_spec(model) for model in PRESETS[name].models]
    return [_spec_or_error(name)]


def ensure_models(store: ModelStore, name: str) -> None:
    """Pull (if needed) and verify every model file that ``name`` needs."""
    for spec in model_specs(name):
        store.ensure(spec)


def served_models(settings: Settings) -> frozenset[str]:
    """The models and pipelines a server runs: ``HUMANSEG_MODELS`` (plus the default), or by
    default the default plus the Apache-2.0 models whose files are in the model folder and the
    pipelines made only of those. Callers never widen it."""
    if settings.models:
        return frozenset({*settings.models, settings.model})
    folder = settings.model_dir
    local = {
        name
        for name, spec in CATALOG.items()
        if spec.license == "Apache-2.0" and not spec.opt_in and (folder / spec.filename).is_file()
    }
    pipelines = {name for name, preset in PRESETS.items() if set(preset.models) <= local}
    return frozenset({settings.model, *pipelines, *(local & set(segmentation_models()))})


def segmentation_models() -> list[str]:
    return [n for n, spec in CATALOG.items() if spec.postprocess.kind == "map"]


def _spec_or_error(name: str) -> ModelSpec:
    spec = CATALOG.get(name)
    if spec is not None and spec.postprocess.kind == "map":
        return spec
    if spec is not None:
        raise error(
            "unknown_model",
            f"{name!r} is a person detector used inside pipelines, not a segmentation model; "
            f"models: {', '.join(segmentation_models())}; pipelines: {', '.join(PRESETS)}.",
        )
    raise error(
        "unknown_model",
        f"Unknown model {name!r}; models: {', '.join(segmentation_models())}; "
        f"pipelines: {', '.join(PRESETS)}.",
    )


class Matter(Protocol):
    name: str

    @property
    def input_size(self) -> tuple[int, int]: ...

    def matte(self, rgb: Picture, size: tuple[int, int]) -> np.ndarray:
        """uint8 matte at ``size`` (the photo's size; ``rgb`` may be a smaller draft)."""
        ...


class ModelMatter:
    """One catalog model, its map upsampled to the photo."""

    def __init__(self, segmenter: Segmenter) -> None:
        self.name = segmenter.spec.name
        self.segmenter = segmenter

    @property
    def input_size(self) -> tuple[int, int]:
        return self.segmenter.input_size

    def matte(self, rgb: Picture, size: tuple[int, int]) -> np.ndarray:
        return matting.upsample_matte(self.segmenter.predict(rgb), size)


class PresetMatter:
    """A fusion of catalog models as described in the module docstring."""

    def __init__(self, spec: PresetSpec, registry: ModelRegistry) -> None:
        self.name = spec.name
        self.spec = spec
        self.guide = registry.get(spec.guide)
        self.members = [(registry.get(name), weight) for name, weight in spec.members]
        self.box_members = [
            (registry.get(name), weight, margin) for name, weight, margin in spec.box_members
        ]
        self.detector = registry.get(spec.detector) if spec.detector else None

    @property
    def input_size(self) -> tuple[int, int]:
        width = max(segmenter.input_size[0] for segmenter, _ in self.members)
        height = max(segmenter.input_size[1] for segmenter, _ in self.members)
        return (2 * width, 2 * height) if self.spec.zoom else (width, height)

    def _predict(self, segmenter: Segmenter, rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The member's probability for ``rgb``, float32 in [0, 1], brought to ``size``."""
        tensor = segmenter.to_tensor(rgb)
        probability = segmenter.predict_tensor(tensor)
        if self.spec.flip:  # the mirror image of the resized input: one resize, not two
            mirrored = segmenter.predict_tensor(_mirrored(tensor, segmenter.spec.preprocess.layout))
            probability = (probability + mirrored[:, ::-1]) * np.float32(0.5)
        return matting.upsample_probability(probability, size)

    def _fuse(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """The members' maps fused at the map size, and the detector's presence factor."""
        spec = self.spec
        width, height = _size(rgb)
        size = matting.working_size((width, height), MAP_SIDE)
        scale = width / size[0]  # from map pixels to ``rgb``'s pixels
        # the first halvings of the photo serve the guide's input and the detector's
        feed = matting.halved(rgb, self.guide.input_size)
        lead = self._predict(self.guide, feed, size)
        bounds = person_bounds(lead, spec.threshold)  # the person, found once, widened below
        presence = self._presence(rgb, feed, bounds, size, scale)
        if presence == 0.0:
            return np.zeros(lead.shape, dtype=np.float32), 0.0
        box = widened(bounds, spec.zoom_margin, size)
        close_ups = [
            (segmenter, weight, widened(bounds, margin, size))
            for segmenter, weight, margin in self.box_members
        ]
        if spec.zoom and box is not None and box != (0, 0, *size):  # else the same input again
            left, top, right, bottom = box
            region = lead[top:bottom, left:right]
            close = self._predict(self.guide, _cut(rgb, box, scale), _size(region))
            region += (close - region) * np.float32(spec.zoom_weight / (1.0 + spec.zoom_weight))
        near: np.ndarray | None = None

        def near_the_person(segmenter: Segmenter, probability: np.ndarray) -> np.ndarray:
            """A general model's map kept only near the person the guide found."""
            nonlocal near
            if segmenter.spec.person_specific:
                return probability
            if near is None:
                near = matting.dilate_mask(lead >= spec.threshold, _near_radius(size))
            return np.where(near, probability, np.float32(0.0))

        maps = []
        for segmenter, weight in self.members:
            if segmenter is self.guide:
                maps.append((lead, weight))
                continue
            maps.append((near_the_person(segmenter, self._predict(segmenter, rgb, size)), weight))
        for segmenter, weight, member_box in close_ups:
            probability = np.zeros_like(lead)
            if member_box is not None:
                left, top, right, bottom = member_box
                region = probability[top:bottom, left:right]
                region[...] = self._predict(segmenter, _cut(rgb, member_box, scale), _size(region))
            maps.append((near_the_person(segmenter, probability), weight))
        return _weighted_mean(maps), presence

    def _presence(
        self,
        rgb: np.ndarray,
        feed: np.ndarray,
        person: tuple[int, int, int, int] | None,
        size: tuple[int, int],
        scale: float,
    ) -> float:
        """Factor in [0, 1]: 1 when the detector sees a person, in a square around the region
        the guide found (``person``, the bounds of the guide's map of ``size``, ``scale`` times
        smaller than ``rgb``) or in the whole photo (``feed``: ``rgb`` halved, as the detector's
        resize would do first anyway); 0 when it sees none. The square is cut from ``rgb`` at
        its full working size: in a small copy a small person is a blur the detector misses.
        The whole photo is only looked at when the square leaves a doubt (the factor is the
        same either way)."""
        if self.detector is None:
            return 1.0
        box = widened(person, self.spec.detector_margin, size)
        if box is None:
            return 0.0
        low, high = self.spec.presence_range
        square = square_around(_scaled_box(box, scale))
        whole = square == (0, 0, *_size(rgb))
        score = self.detector.presence(feed if whole else crop_padded(rgb, square))
        if score < high and not whole:  # not sure yet: the whole photo may show them better
            score = max(score, self.detector.presence(feed))
        return float(np.clip((score - low) / (high - low), 0.0, 1.0))

    def matte(self, rgb: Picture, size: tuple[int, int]) -> np.ndarray:
        # The models see 256 px and their maps are fused at MAP_SIDE px; only the close-ups
        # and the detector's square are cut from the photo at up to WORK_SIDE px, so a small
        # person keeps their pixels without full-size float maps of a large photo.
        fused, presence = self._fuse(_shrunk(rgb, WORK_SIDE))
        return _sharpened_matte(fused, self.spec.sharpen, self.spec.threshold, presence, size)


def _shrunk(rgb: Picture, side: int) -> np.ndarray:
    """The photo's pixels with the longest side at most ``side``. A Pillow image (a PNG or BMP)
    is shrunk by Pillow first, whose ``reduce`` works before a copy into an array, so a large
    photo is never copied whole; a JPEG's array by ``matting.resize_array``."""
    width, height = picture_size(rgb)
    if max(width, height) <= side:
        return np.asarray(rgb)
    if isinstance(rgb, np.ndarray):
        return matting.resize_array(rgb, matting.working_size((width, height), side))
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


def _size(rgb: np.ndarray) -> tuple[int, int]:
    return (rgb.shape[1], rgb.shape[0])


def crop_padded(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``rgb`` cut to ``box`` (left, top, right, bottom), black where the box leaves it."""
    left, top, right, bottom = box
    height, width = rgb.shape[:2]
    if left >= 0 and top >= 0 and right <= width and bottom <= height:
        return rgb[top:bottom, left:right]
    out = np.zeros((bottom - top, right - left, *rgb.shape[2:]), dtype=rgb.dtype)
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
    if x0 < x1 and y0 < y1:
        out[y0 - top : y1 - top, x0 - left : x1 - left] = rgb[y0:y1, x0:x1]
    return out


# Longest side of the photo that close-ups and the detector's square are cut from (cutting
# them from a 512 px copy lost small people's detail: dev mIoU 0.910 → 0.896).
WORK_SIDE = 1024
# Longest side at which the members' maps are fused: twice the models' 256 px input.
MAP_SIDE = 512


def _scaled_box(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """A box of the map in the pixels of a photo ``scale`` times larger."""
    left, top, right, bottom = box
    return (round(left * scale), round(top * scale), round(right * scale), round(bottom * scale))


def _cut(rgb: np.ndarray, box: tuple[int, int, int, int], scale: float) -> np.ndarray:
    """The part of ``rgb`` under ``box``, a box of a map ``scale`` times smaller."""
    left, top, right, bottom = _scaled_box(box, scale)
    return rgb[top:bottom, left:right]


def _sharpened_matte(
    fused: np.ndarray, gain: float, center: float, presence: float, size: tuple[int, int]
) -> np.ndarray:
    """The fused map sharpened, scaled by the presence factor, as a uint8 matte of ``size``."""
    probability = sharpen(fused, gain, center)
    if presence != 1.0:
        probability = probability * np.float32(presence)
    return matting.upsample_matte(probability, size)


def _near_radius(size: tuple[int, int]) -> int:
    return max(2, round(0.03 * max(size)))


def _weighted_mean(maps: list[tuple[np.ndarray, float]]) -> np.ndarray:
    if len(maps) == 1:
        return maps[0][0]
    total = sum(weight for _, weight in maps)
    out = np.zeros_like(maps[0][0])
    for probability, weight in maps:
        out += probability * np.float32(weight / total)
    return out


def sharpen(probability: np.ndarray, gain: float, center: float = 0.5) -> np.ndarray:
    """Steeper by ``gain`` around ``center``, which moves to 0.5; clipped to [0, 1]."""
    if gain == 1.0 and center == 0.5:
        return probability
    out = probability - np.float32(center)
    out *= np.float32(gain)
    out += np.float32(0.5)
    return np.clip(out, 0.0, 1.0, out=out)


def person_box(
    probability: np.ndarray, margin: float, threshold: float
) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) around the pixels above ``threshold``, each side widened by
    ``margin`` times the box's size and clipped to the image; None when there is no person."""
    return widened(person_bounds(probability, threshold), margin, _size(probability))


def person_bounds(probability: np.ndarray, threshold: float) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pixels above ``threshold``; None if there are none."""
    rows = np.flatnonzero(probability.max(axis=1) >= threshold)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(probability.max(axis=0) >= threshold)
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def widened(
    box: tuple[int, int, int, int] | None, margin: float, size: tuple[int, int]
) -> tuple[int, int, int, int] | None:
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


def square_around(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The square with ``box``'s centre and longest side; it may reach past the photo (a crop
    pads that with black), as the detector expects an undistorted region around the person."""
    left, top, right, bottom = box
    side = max(right - left, bottom - top)
    x, y = (left + right - side) // 2, (top + bottom - side) // 2
    return (x, y, x + side, y + side)


class Resolver:
    """Turns a request's ``model`` into a loaded ``Matter``, each made once per process."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._presets: dict[str, PresetMatter] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Matter:
        if name not in PRESETS:
            return ModelMatter(self.registry.get(_spec_or_error(name).name))
        loaded = self._presets.get(name)
        if loaded is None:
            with self._lock:
                loaded = self._presets.get(name)
                if loaded is None:
                    loaded = PresetMatter(PRESETS[name], self.registry)
                    self._presets[name] = loaded
        return loaded
