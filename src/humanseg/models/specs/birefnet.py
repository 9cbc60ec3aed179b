"""BiRefNet portrait from the rembg project's release assets (needs internet access to pull)."""

from humanseg.models.spec import ModelSpec, Postprocess, Preprocess, UrlSource
from humanseg.models.specs.u2net import IMAGENET_MEAN, IMAGENET_STD

BIREFNET_PORTRAIT = ModelSpec(
    name="birefnet-portrait",
    filename="BiRefNet-portrait-epoch_150.onnx",
    sha256=None,
    md5="c3a64a6abf20250d090cd055f12a3b67",  # the publisher gives only an MD5
    license="MIT",
    person_specific=True,
    runtime="onnx",
    sources=(
        UrlSource(
            "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"
            "BiRefNet-portrait-epoch_150.onnx"
        ),
    ),
    # input [1, 3, 1024, 1024] ImageNet-normalised; output 0 holds logits
    preprocess=Preprocess(size=(1024, 1024), mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="NCHW"),
    postprocess=Postprocess(output_index=0, activation="sigmoid"),
    description="BiRefNet portrait, 1024×1024, person-specific, slow on CPU.",
)
