"""A loaded model: photo in, probability map at the model's resolution out."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import cached_property, partial

import cv2
import numpy as np
from PIL import Image

from humanseg import imaging, matting
from humanseg.imaging import Picture
from humanseg.models import availability
from humanseg.models.catalog import ModelSpec, get_spec
from humanseg.models.passes import Passes
from humanseg.models.runtimes import (
    LiteRTSession,
    OnnxSession,
    OpenVinoSession,
    Session,
    SessionPool,
    onnx_engine,
    session_threads,
)
from humanseg.models.spec import Orientation
from humanseg.models.store import ModelStore


class Segmenter:
    """Runs one catalog model; safe to call from many threads at once."""

    def __init__(
        self,
        spec: ModelSpec,
        store: ModelStore,
        *,
        threads: int,
        pool_size: int,
        engine: str = "onnxruntime",
        precision: str = "f32",
        passes: Passes | None = None,
    ):
        self.spec = spec
        path = store.ensure(spec)
        threads = session_threads(threads, spec.runtime)
        # a single-threaded session leaves the other cores to a mirror-image pass beside it
        self.single_threaded = threads == 1
        self.passes = passes if passes is not None and self.single_threaded else Passes(0)
        factory: partial[Session]
        if spec.runtime == "litert":
            factory = partial(LiteRTSession, path, threads=threads)
        elif onnx_engine(engine) == "openvino":
            factory = partial(
                OpenVinoSession,
                path,
                threads=threads,
                output_index=spec.postprocess.output_index,
                precision=precision,
            )
        else:
            factory = partial(
                OnnxSession, path, threads=threads, output_index=spec.postprocess.output_index
            )
        self._pool = SessionPool(factory, size=pool_size)
        self.provider = self._pool.provider

    @property
    def input_size(self) -> tuple[int, int]:
        return self.spec.preprocess.size

    @cached_property
    def _scale(self) -> np.ndarray | np.float32:
        return _per_channel(1.0 / (255.0 * np.asarray(self.spec.preprocess.std)))

    @cached_property
    def _offset(self) -> np.ndarray | np.float32 | None:
        pre = self.spec.preprocess
        if pre.mean == (0.0, 0.0, 0.0):
            return None
        return _per_channel(-np.asarray(pre.mean) / np.asarray(pre.std))

    def to_tensor(self, rgb: Picture, short_side: int | None = None) -> np.ndarray:
        """``rgb`` as the model's input; ``short_side``: its short side at that many pixels
        instead of the model's own (a model with a dynamic input size)."""
        pre = self.spec.preprocess
        pixels = np.asarray(rgb)
        height, width = pixels.shape[:2]
        size = pre.input_size(width, height, short_side)
        area = pre.shrink == "area"
        if pre.resize == "letterbox":
            resized = _letterbox(pixels, size, area=area)
        else:
            resized = imaging.resize_array(pixels, size, area=area)
        # (pixels / 255 - mean) / std, as one scale and one offset, in place
        tensor = resized.astype(np.float32)
        tensor *= self._scale
        if self._offset is not None:
            tensor += self._offset
        if pre.layout == "NCHW":
            tensor = tensor.transpose(2, 0, 1)
        return np.ascontiguousarray(tensor[None])

    def predict(self, rgb: Picture) -> np.ndarray:
        """Person probability in [0, 1], float32, shaped (height, width) of the model input."""
        return self.predict_tensor(self.to_tensor(rgb))

    def predict_at(
        self,
        rgb: np.ndarray,
        size: tuple[int, int],
        *,
        flip: bool = False,
        short_side: int | None = None,
    ) -> tuple[np.ndarray, float]:
        """``predict`` brought to ``size`` (width, height), and its peak; with ``flip``,
        averaged with the mirror image's, and the lower of the two passes' peaks;
        ``short_side`` as for ``to_tensor``."""
        tensor = self.to_tensor(rgb, short_side)
        if flip:  # the mirror image of the resized input: one resize, not two
            probability, other = self.passes.run(
                partial(self.predict_tensor, tensor),
                partial(self.predict_tensor, mirrored(tensor, self.spec.preprocess.layout)),
            )
            peak = min(float(probability.max()), float(other.max()))
            probability = (probability + other[:, ::-1]) * np.float32(0.5)
        else:
            probability = self.predict_tensor(tensor)
            peak = float(probability.max())
        return matting.upsample_probability(probability, size), peak

    def predict_tensor(self, tensor: np.ndarray) -> np.ndarray:
        """``predict`` for an input already made by ``to_tensor`` (e.g. a flipped one)."""
        extra = None
        if self.spec.extra_inputs is not None:
            nchw = self.spec.preprocess.layout == "NCHW"
            height, width = tensor.shape[2:4] if nchw else tensor.shape[1:3]
            extra = self.spec.extra_inputs.feeds(width, height)
        with self._pool.session() as session:
            outputs = session.run(tensor, extra)
        post = self.spec.postprocess
        output = outputs[post.output_index] if len(outputs) > 1 else outputs[0]
        output = np.asarray(output, dtype=np.float32)
        if output.ndim == 4:
            output = output[0]
        if output.ndim == 3:
            nhwc = self.spec.preprocess.layout == "NHWC"
            output = output[..., post.channel] if nhwc else output[post.channel]
        if post.activation == "sigmoid":
            output = 1.0 / (1.0 + np.exp(-np.clip(output, -80.0, 80.0)))  # no overflow
        return np.clip(output, 0.0, 1.0)

    def presence(self, rgb: Picture) -> float:
        """Probability of a person in ``rgb``: a detector's (``postprocess.kind ==
        "presence"``) highest anchor, or a map model's own flag (``presence_output``)."""
        return self.presence_tensor(self.to_tensor(rgb))

    def presence_tensor(self, tensor: np.ndarray) -> float:
        """``presence`` for an input already made by ``to_tensor`` (e.g. a flipped one)."""
        return self.sighting_tensor(tensor).score

    def sighting(self, rgb: Picture) -> Sighting:
        """``presence``, and for a detector with key points (``postprocess.orientation``)
        which way up its likeliest person is."""
        return self.sighting_tensor(self.to_tensor(rgb))

    def sighting_tensor(self, tensor: np.ndarray) -> Sighting:
        """``sighting`` for an input already made by ``to_tensor``."""
        with self._pool.session() as session:
            outputs = session.run(tensor)
        post = self.spec.postprocess
        if post.kind != "presence":
            if post.presence_output is None:
                raise ValueError(f"{self.spec.name} does not say whether a person is there")
            flag = np.asarray(outputs[post.presence_output]).max()
            return Sighting(float(np.clip(flag, 0.0, 1.0)))
        output = outputs[post.output_index] if len(outputs) > 1 else outputs[0]
        scores = np.asarray(output, dtype=np.float64).reshape(-1)
        best_anchor = int(np.argmax(scores))
        best = float(scores[best_anchor])
        if post.activation == "sigmoid":
            best = 1.0 / (1.0 + np.exp(-np.clip(best, -100.0, 100.0)))
        tilt = None
        if post.orientation is not None:
            tilt = _tilt(outputs[post.orientation.output_index], best_anchor, post.orientation)
        return Sighting(float(np.clip(best, 0.0, 1.0)), tilt)

    def warm_up(self) -> None:
        width, height = self.input_size
        blank = Image.new("RGB", (width, height), (127, 127, 127))
        if self.spec.postprocess.kind == "presence":
            self.presence(blank)
        else:
            self.predict(blank)


@dataclass(frozen=True)
class Sighting:
    """A detector's verdict on one input."""

    score: float  # the probability that a person is there, in [0, 1]
    # how far the likeliest person is turned counter-clockwise from upright, in degrees
    # [-180, 180): 90 for someone lying with their head to the left; None: not said
    tilt: float | None = None

    def quarter_turns(self, turn_from: float) -> int:
        """The quarter turns counter-clockwise (numpy's ``rot90``) that bring the person
        upright, 0 unless they are turned ``turn_from`` degrees or more."""
        if self.tilt is None or abs(self.tilt) < turn_from:
            return 0
        return -round(self.tilt / 90.0) % 4


def mirrored(tensor: np.ndarray, layout: str) -> np.ndarray:
    """A model input (batch of one) flipped left to right."""
    if layout == "NHWC":  # OpenCV flips an H×W×C image several times faster than numpy copies
        return cv2.flip(tensor[0], 1)[None]
    return np.ascontiguousarray(tensor[..., ::-1])


def _tilt(regressors: np.ndarray, anchor: int, orientation: Orientation) -> float:
    """``Sighting.tilt`` from the key points that ``anchor`` regressed: the direction from
    the feet point to the head point (both relative to the anchor's centre, in input pixels;
    the input is square and letterboxed, so directions are the photo's)."""
    values = np.asarray(regressors, dtype=np.float64).reshape(-1, np.shape(regressors)[-1])
    points = values[anchor, orientation.points_from :].reshape(-1, 2)
    feet, head = points[orientation.feet_point], points[orientation.head_point]
    dx, dy = head[0] - feet[0], head[1] - feet[1]  # the anchor's centre cancels out
    tilt = math.degrees(math.atan2(-dy, dx)) - 90.0  # image rows grow downward
    return (tilt + 180.0) % 360.0 - 180.0


def _per_channel(values: np.ndarray) -> np.ndarray | np.float32:
    """Per-channel constants, as one scalar when they are all equal (numpy is faster so)."""
    if np.all(values == values[0]):
        return np.float32(values[0])
    return values.astype(np.float32)


def _letterbox(pixels: np.ndarray, size: tuple[int, int], *, area: bool = True) -> np.ndarray:
    """``pixels`` scaled to fit ``size`` with its aspect ratio kept, centred on black."""
    width, height = size
    scale = min(width / pixels.shape[1], height / pixels.shape[0])
    inner = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
    canvas = np.zeros((height, width, 3), dtype=pixels.dtype)
    left, top = (width - inner[0]) // 2, (height - inner[1]) // 2
    canvas[top : top + inner[1], left : left + inner[0]] = imaging.resize_array(
        pixels, inner, area=area
    )
    return canvas


class ModelRegistry:
    """Loads each model at most once per process and hands out the loaded ``Segmenter``."""

    def __init__(
        self,
        store: ModelStore,
        *,
        threads: int,
        pool_size: int,
        engine: str = "onnxruntime",
        precision: str = "f32",
        passes: Passes | None = None,
    ) -> None:
        self.store = store
        # independent passes of one request side by side (``humanseg.models.passes``)
        self.passes = passes if passes is not None else Passes(0)
        self._threads = threads
        self._pool_size = pool_size
        self._engine = engine
        self._precision = precision
        self._loaded: dict[str, Segmenter] = {}
        self._lock = threading.Lock()

    def check_available(self, name: str, specs: list[ModelSpec]) -> None:
        """``model_unavailable``, before any download, unless every model in ``specs`` (what
        ``name`` needs) can run here; models already loaded are not checked again."""
        missing = [spec for spec in specs if spec.name not in self._loaded]
        if missing:
            availability.check(
                missing,
                self.store.directory,
                engine=self._engine,
                url_sources=self.store.url_sources,
                pull=self.store.allow_pull,
            ).raise_if_unavailable(name)

    def get(self, name: str) -> Segmenter:
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        spec = get_spec(name)
        self.check_available(name, [spec])
        with self._lock:
            if name not in self._loaded:
                segmenter = Segmenter(
                    spec,
                    self.store,
                    threads=self._threads,
                    pool_size=self._pool_size,
                    engine=self._engine,
                    precision=self._precision,
                    passes=self.passes,
                )
                segmenter.warm_up()
                self._loaded[name] = segmenter
            return self._loaded[name]

    def loaded(self) -> dict[str, Segmenter]:
        return dict(self._loaded)
