"""One module per model; ``SPECS`` lists them in the order ``humanseg models list`` shows."""

from humanseg.models.spec import ModelSpec
from humanseg.models.specs.birefnet import BIREFNET_PORTRAIT
from humanseg.models.specs.faces import FACE_DETECTION
from humanseg.models.specs.isnet import ISNET
from humanseg.models.specs.modnet import MODNET
from humanseg.models.specs.pose import POSE_DETECTION, POSE_SEGMENTATION
from humanseg.models.specs.rvm import RVM
from humanseg.models.specs.selfie import SELFIE, SELFIE_LANDSCAPE
from humanseg.models.specs.u2net import U2NET, U2NET_HUMAN_SEG, U2NETP

SPECS: tuple[ModelSpec, ...] = (
    SELFIE,
    SELFIE_LANDSCAPE,
    MODNET,
    U2NET,
    U2NETP,
    ISNET,
    RVM,
    U2NET_HUMAN_SEG,
    BIREFNET_PORTRAIT,
    POSE_SEGMENTATION,
    POSE_DETECTION,
    FACE_DETECTION,
)
