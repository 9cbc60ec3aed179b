"""A loaded model: photo in, probability map at the model's resolution out."""

from __future__ import annotations

import threading
from functools import partial

import numpy as np
from PIL import Image

from humanseg.models.catalog import ModelSpec, get_spec
from humanseg.models.runtimes import LiteRTSession, OnnxSession, Session, SessionPool
from humanseg.models.store import ModelStore


class Segmenter:
    """Runs one catalog model; safe to call from many threads at once."""

    def __init__(self, spec: ModelSpec, store: ModelStore, *, threads: int, pool_size: int):
        self.spec = spec
        path = store.ensure(spec)
        factory: partial[Session]
        if spec.runtime == "litert":
            factory = partial(LiteRTSession, path, threads=threads)
        else:
            factory = partial(
                OnnxSession, path, threads=threads, output_index=spec.postprocess.output_index
            )
        self._pool = SessionPool(factory, size=pool_size)
        self.provider = self._pool.provider

    @property
    def input_size(self) -> tuple[int, int]:
        return self.spec.preprocess.size

    def to_tensor(self, rgb: Image.Image) -> np.ndarray:
        pre = self.spec.preprocess
        size = pre.input_size(*rgb.size)
        if pre.resize == "letterbox":
            resized = _letterbox(rgb, size)
        else:
            resized = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
        tensor = np.asarray(resized, dtype=np.float32) * np.float32(1 / 255)
        if pre.mean != (0.0, 0.0, 0.0) or pre.std != (1.0, 1.0, 1.0):
            tensor -= np.asarray(pre.mean, dtype=np.float32)
            tensor /= np.asarray(pre.std, dtype=np.float32)
        if pre.layout == "NCHW":
            tensor = tensor.transpose(2, 0, 1)
        return np.ascontiguousarray(tensor[None])

    def predict(self, rgb: Image.Image) -> np.ndarray:
        """Person probability in [0, 1], float32, shaped (height, width) of the model input."""
        return self.predict_tensor(self.to_tensor(rgb))

    def predict_tensor(self, tensor: np.ndarray) -> np.ndarray:
        """``predict`` for an input already made by ``to_tensor`` (e.g. a flipped one)."""
        with self._pool.session() as session:
            outputs = session.run(tensor)
        post = self.spec.postprocess
        output = outputs[post.output_index] if len(outputs) > 1 else outputs[0]
        output = np.asarray(output, dtype=np.float32)
        if output.ndim == 4:
            output = output[0]
        if output.ndim == 3:
            nhwc = self.spec.preprocess.layout == "NHWC"
            output = output[..., post.channel] if nhwc else output[post.channel]
        if post.activation == "sigmoid":
            output = 1.0 / (1.0 + np.exp(-output))
        return np.clip(output, 0.0, 1.0)

    def presence(self, rgb: Image.Image) -> float:
        """For a detector (``postprocess.kind == "presence"``): probability of a person."""
        tensor = self.to_tensor(rgb)
        with self._pool.session() as session:
            outputs = session.run(tensor)
        post = self.spec.postprocess
        output = outputs[post.output_index] if len(outputs) > 1 else outputs[0]
        best = float(np.max(np.asarray(output, dtype=np.float64)))
        if post.activation == "sigmoid":
            best = 1.0 / (1.0 + np.exp(-np.clip(best, -100.0, 100.0)))
        return float(np.clip(best, 0.0, 1.0))

    def warm_up(self) -> None:
        width, height = self.input_size
        blank = Image.new("RGB", (width, height), (127, 127, 127))
        if self.spec.postprocess.kind == "presence":
            self.presence(blank)
        else:
            self.predict(blank)


def _letterbox(rgb: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``rgb`` scaled to fit ``size`` with its aspect ratio kept, centred on black."""
    width, height = size
    scale = min(width / rgb.width, height / rgb.height)
    inner = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    canvas = Image.new("RGB", size)
    canvas.paste(
        rgb.resize(inner, Image.Resampling.BILINEAR, reducing_gap=3.0),
        ((width - inner[0]) // 2, (height - inner[1]) // 2),
    )
    return canvas


class ModelRegistry:
    """Loads each model at most once per process and hands out the loaded ``Segmenter``."""

    def __init__(self, store: ModelStore, *, threads: int, pool_size: int) -> None:
        self.store = store
        self._threads = threads
        self._pool_size = pool_size
        self._loaded: dict[str, Segmenter] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Segmenter:
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        spec = get_spec(name)
        with self._lock:
            if name not in self._loaded:
                segmenter = Segmenter(
                    spec, self.store, threads=self._threads, pool_size=self._pool_size
                )
                segmenter.warm_up()
                self._loaded[name] = segmenter
            return self._loaded[name]

    def loaded(self) -> dict[str, Segmenter]:
        return dict(self._loaded)
