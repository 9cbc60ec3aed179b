"""What the core pipeline reads: models, engines, image limits, refinement, encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from humanseg.settings.fields import FROM_ENVIRONMENT, default_model_dir


class PipelineSettings(BaseSettings):
    """Settings of ``humanseg.pipeline.Pipeline``, read from ``HUMANSEG_*``."""

    model_config = FROM_ENVIRONMENT

    # models
    model: str = Field(
        "auto", description="Model or pipeline used when a request names none (`auto`: fused)."
    )
    pull_on_request: bool = Field(
        True,
        description="Pull a missing model file when a request needs it. `humanseg serve` turns "
        "it off unless set: a server pulls only at start-up, what its operator configured.",
    )
    model_dir: Path = Field(
        default_factory=default_model_dir,
        description="Cache of pulled model files (default: $XDG_CACHE_HOME/humanseg/models).",
    )
    url_sources: bool = Field(
        False,
        description="Pull models from their HTTPS URL sources (upstream release assets), "
        "which need internet access. Off: a model whose only sources are URLs is listed as "
        "unavailable until its file is placed in the model folder.",
    )
    onnx_engine: Literal["auto", "onnxruntime", "openvino"] = Field(
        "auto",
        description="What runs ONNX models. auto: onnxruntime when it has a CUDA GPU, else "
        "OpenVINO when it is installed (extra [openvino]), else onnxruntime.",
    )
    openvino_precision: Literal["bf16", "f32"] = Field(
        "bf16",
        description="OpenVINO's arithmetic. bf16 where the CPU computes it natively (f32 "
        "elsewhere): about twice as fast; results differ slightly from f32 (U²-Net-p on the "
        "dev set: mIoU 0.851 → 0.850). f32: onnxruntime's results, at its speed.",
    )
    inference_threads: int = Field(
        0,
        ge=0,
        description="Threads one model inference may use. 0 (auto): ONNX models (MODNet, "
        "U²-Net, ISNet…) use every core, which about halves their latency; the small LiteRT "
        "models use one, so concurrent requests share the cores.",
    )
    parallel_passes: bool = Field(
        True,
        description="Run one request's independent model passes (a mirror-image pass, a "
        "pipeline's members that need nothing from each other, the person gate's tiles) side "
        "by side on idle cores, where the small models run single-threaded "
        "(HUMANSEG_INFERENCE_THREADS 0): lower latency on an idle machine for the same work; "
        "a busy server runs them one after another, and so does a clip (its decoding and "
        "encoding keep the other cores busy). false: always one after another.",
    )
    refine_edges: bool = Field(
        False,
        description="Refine the matte's edges against the full-resolution photo (guided filter); "
        "off by default because it does not pay for the default `auto` pipeline.",
    )
    keep_every_part: bool = Field(
        False,
        description="Keep every separate part of a pipeline's matte. By default the pipelines "
        "drop parts far smaller than the largest one (a stray object, a passer-by), which "
        "also drops a person standing apart from the subject at under half their size. A "
        "request overrides it with its `keep_every_part` field.",
    )

    # what an image may cost before it is decoded
    max_image_side: int = Field(4096, ge=1, description="Longest image side accepted, in pixels.")
    max_image_pixels: int = Field(
        4096 * 4096, ge=1, description="Most pixels (width × height) accepted in one image."
    )
    max_jpeg_scans: int = Field(
        64,
        ge=1,
        description="Most scans a JPEG may have (each is a full decoding pass; progressive "
        "JPEGs have about 10); more: 422 `image_too_complex` before any decoding.",
    )

    # output encoding
    png_compress_level: int = Field(
        1, ge=0, le=9, description="zlib level of zlib-encoded PNG outputs (1: fast, 9: smallest)."
    )
    png_fast: bool = Field(
        True,
        description="Encode RGB(A) PNGs with fpng (several times faster, larger files: "
        "+17 % on a 16 MP photo); false: zlib at HUMANSEG_PNG_COMPRESS_LEVEL.",
    )
