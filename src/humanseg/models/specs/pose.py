"""MediaPipe's pose detector, used as a person detector: is there a person at all?

Segmentation models answer "which pixels are the person" even when there is none (a cat, a
cup); pipelines ask this detector about the region they found before trusting it.
"""

from humanseg.models.spec import ModelSpec, Orientation, PipWheelMember, Postprocess, Preprocess

_WHEEL = ("mediapipe", "0.10.14")

POSE_DETECTION = ModelSpec(
    name="pose-detection",
    filename="pose_detection.tflite",
    sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(
        PipWheelMember(*_WHEEL, member="mediapipe/modules/pose_detection/pose_detection.tflite"),
    ),
    # input [1, 224, 224, 3] in [-1, 1]; output 1 holds 2254 anchor logits, output 0 each
    # anchor's box and four key points in input pixels from its centre (the hips' centre and a
    # point beyond the head first: which way up the person is, a person lying down included)
    preprocess=Preprocess(
        size=(224, 224), mean=(0.5,) * 3, std=(0.5,) * 3, resize="letterbox", shrink="linear"
    ),
    postprocess=Postprocess(
        output_index=1,
        activation="sigmoid",
        kind="presence",
        orientation=Orientation(output_index=0),
    ),
    size_bytes=2_959_046,
    description="MediaPipe pose detector (BlazePose), 224×224: is a person in the photo?",
)

POSE_SEGMENTATION = ModelSpec(
    name="pose-segmentation",
    filename="pose_landmark_full.tflite",
    sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(
        PipWheelMember(*_WHEEL, member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite"),
    ),
    # BlazePose GHUM full: input [1, 256, 256, 3] in [0, 1], the person centred and upright;
    # output 2 holds the person's segmentation logits [1, 256, 256, 1] (output 0 the landmarks,
    # output 1 the pose flag: the probability that a person is in the input)
    preprocess=Preprocess(size=(256, 256)),
    postprocess=Postprocess(output_index=2, activation="sigmoid", presence_output=1),
    size_bytes=6_440_512,
    description="MediaPipe BlazePose (full) segmentation output, 256×256, on the person's "
    "square: trained on whole bodies.",
)
