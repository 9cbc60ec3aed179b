"""MediaPipe selfie segmentation (square 256×256 and landscape 256×144), person-specific."""

from humanseg.models.spec import ModelSpec, PipWheelMember, Preprocess

_WHEEL = ("mediapipe", "0.10.14")
_FOLDER = "mediapipe/modules/selfie_segmentation"

SELFIE = ModelSpec(
    name="selfie",
    filename="selfie_segmentation.tflite",
    sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(PipWheelMember(*_WHEEL, member=f"{_FOLDER}/selfie_segmentation.tflite"),),
    preprocess=Preprocess(size=(256, 256)),
    size_bytes=249_505,
    description="MediaPipe selfie segmentation, 256×256, person-specific, ~5 ms on a CPU core.",
)

SELFIE_LANDSCAPE = ModelSpec(
    name="selfie-landscape",
    filename="selfie_segmentation_landscape.tflite",
    sha256="a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(PipWheelMember(*_WHEEL, member=f"{_FOLDER}/selfie_segmentation_landscape.tflite"),),
    preprocess=Preprocess(size=(256, 144)),
    size_bytes=250_145,
    description="MediaPipe selfie segmentation, landscape 256×144, person-specific.",
)
