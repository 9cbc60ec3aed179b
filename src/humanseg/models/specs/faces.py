"""MediaPipe's short-range face detector (BlazeFace): frames ID photos.

Not a segmentation model; ``models/faces.py`` decodes its anchors and outputs.
"""

from humanseg.models.spec import ModelSpec, PipWheelMember, Postprocess, Preprocess

FACE_DETECTION = ModelSpec(
    name="face-detection",
    filename="face_detection_short_range.tflite",
    sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    license="Apache-2.0",
    person_specific=True,
    runtime="litert",
    sources=(
        PipWheelMember(
            "mediapipe",
            "0.10.14",
            member="mediapipe/modules/face_detection/face_detection_short_range.tflite",
        ),
    ),
    preprocess=Preprocess(size=(128, 128), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    postprocess=Postprocess(kind="faces"),
    description="MediaPipe BlazeFace short-range face detector, 128×128; frames ID photos.",
)
