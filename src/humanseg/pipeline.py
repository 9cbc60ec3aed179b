"""The core: image bytes → decode → model → matte → compose → encoded image bytes.

Pure and synchronous, with no HTTP in it. The API, the CLI and batch jobs all call
``Pipeline.process``; none re-implements a step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from humanseg import compose, imaging, matting
from humanseg.errors import error
from humanseg.models.segmenter import ModelRegistry
from humanseg.models.store import ModelStore
from humanseg.settings import Settings


class OutputType(StrEnum):
    ALPHA = "alpha"  # the seed's default (empty or absent `type`)
    FOREGROUND = "foreground"


def parse_output_type(value: str | None) -> OutputType:
    """The seed API's `type`: empty or absent means the alpha matte."""
    if value is None or value == "" or value == OutputType.ALPHA:
        return OutputType.ALPHA
    if value == OutputType.FOREGROUND:
        return OutputType.FOREGROUND
    raise error(
        "invalid_type",
        f'Unknown type {value!r}; use "foreground" for a cut-out PNG, '
        "or leave it empty for the alpha matte.",
    )


@dataclass(frozen=True)
class Output:
    data: bytes
    media_type: str
    width: int
    height: int
    model_seconds: float = 0.0  # time in the model alone, for metrics and benchmarks


class Pipeline:
    def __init__(self, settings: Settings, registry: ModelRegistry | None = None) -> None:
        self.settings = settings
        self.registry = registry or ModelRegistry(
            ModelStore(settings.model_dir),
            threads=settings.inference_threads,
            pool_size=settings.max_concurrency,
        )

    def load(self, model: str | None = None) -> None:
        """Load (pulling if needed) and warm up a model, so the first request is fast."""
        self.registry.get(model or self.settings.model)

    def process(
        self, data: bytes, output: OutputType = OutputType.ALPHA, *, model: str | None = None
    ) -> Output:
        settings = self.settings
        segmenter = self.registry.get(model or settings.model)
        needs_full_pixels = output is OutputType.FOREGROUND
        decoded = imaging.decode(
            data,
            max_side=settings.max_image_side,
            max_pixels=settings.max_image_pixels,
            draft_size=None if needs_full_pixels else segmenter.input_size,
        )
        started = time.perf_counter()
        probability = segmenter.predict(decoded.rgb)
        model_seconds = time.perf_counter() - started
        matte = matting.upsample_matte(probability, decoded.size)
        matte = matting.apply_own_alpha(matte, decoded.alpha)
        if output is OutputType.FOREGROUND:
            image = compose.foreground_output(decoded.rgb, matte)
        else:
            image = compose.alpha_output(matte)
        encoded = imaging.encode_png(
            image, compress_level=settings.png_compress_level, fast=settings.png_fast
        )
        width, height = decoded.size
        return Output(
            data=encoded,
            media_type="image/png",
            width=width,
            height=height,
            model_seconds=model_seconds,
        )
