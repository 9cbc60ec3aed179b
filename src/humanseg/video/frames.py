"""One video frame through the core: its matte, the temporal step, then the output pixels.

The matte comes from the same ``Matter`` the image pipeline resolves (``Pipeline.resolver``),
refined as images are when asked; the output pixels from the same ``compose`` and ``matting``
functions as the image types. Only what is per clip differs: the temporal step between the
matte and the output, and a background image scaled once for the whole clip.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from humanseg import compose, matting
from humanseg.errors import ErrorCode, error
from humanseg.models.matter import Matter
from humanseg.outputs import OutputSpec, OutputType
from humanseg.video.clip_matter import ClipMatter
from humanseg.video.temporal import Motion, SteadyMatte, TemporalParams

# A frame the model skips is given the previous matte carried along the motion only where the
# flow holds on at least this share of the frame; a cut or a sudden change gets its own matte.
MIN_TRUSTED = 0.9

# The image types that make sense for a clip; `frames` is the foreground's cut-outs as PNGs.
VIDEO_TYPES = (
    OutputType.FOREGROUND,
    OutputType.ALPHA,
    OutputType.MASK,
    OutputType.BACKGROUND,
    OutputType.BLUR,
)


def check_video_spec(spec: OutputSpec) -> None:
    if spec.type not in VIDEO_TYPES:
        allowed = ", ".join(kind.value for kind in VIDEO_TYPES)
        raise error(
            ErrorCode.INVALID_TYPE,
            f"A video's type is one of {allowed} or frames, not {spec.type}.",
        )
    if spec.type is OutputType.BACKGROUND and spec.bg_color is not None and spec.bg_color[3] < 255:
        raise error(ErrorCode.INVALID_COLOR, "A video's background colour must be opaque.")


class FrameRenderer:
    """Turns each frame of one clip, in order, into its output pixels.

    Returns H×W uint8 for ``alpha``/``mask``, H×W×4 RGBA for ``foreground``, H×W×3 RGB for
    ``background``/``blur``.
    """

    def __init__(
        self,
        matter: Matter,
        spec: OutputSpec,
        *,
        refine: bool,
        steady: TemporalParams | None,
        background: Image.Image | None = None,
        model_every: int = 1,
    ) -> None:
        """``steady``: the temporal step's numbers, or None for every frame on its own."""
        check_video_spec(spec)
        if model_every < 1:
            raise ValueError("model_every is at least 1")
        # with the temporal step the frames are matted as a clip (the gate's verdict kept for
        # it, see ClipMatter); without it, each as a photo
        self.matter: Matter = ClipMatter(matter) if steady is not None else matter
        self.spec = spec
        self.refine = refine
        self.steady = None if steady is None else SteadyMatte(steady.with_model_every(model_every))
        # with the temporal step, the model runs on every ``model_every``-th frame and the
        # frames between carry the steady matte along the motion (the model is most of a
        # frame's cost; the flow is already computed for the temporal step)
        self.model_every = model_every
        self._skipped = 0
        self._backdrop: np.ndarray | None = None
        # the decoded ``spec.bg_image``, decoded once by the caller under the image limits
        self._background_image = background
        if spec.type is OutputType.BACKGROUND and spec.bg_image is not None and background is None:
            raise ValueError("a background image must be passed decoded")

    def matte(self, rgb: np.ndarray) -> np.ndarray:
        """The frame's matte before the temporal step."""
        height, width = rgb.shape[:2]
        matte = self.matter.matte(rgb, (width, height)).alpha
        if self.refine:
            matte = matting.refine_matte(rgb, matte, matting.working_photo(rgb))
        return matte

    def follow(self, rgb: np.ndarray) -> Motion | None:
        """The motion from the previous frame, for the temporal step (None without it)."""
        return None if self.steady is None else self.steady.follow(rgb)

    def needs_model(self, motion: Motion | None) -> bool:
        """Whether this frame gets its own matte from the model; call once per frame."""
        if (
            motion is None
            or self.steady is None
            or self._skipped + 1 >= self.model_every
            or not self.steady.can_carry(motion, MIN_TRUSTED)
        ):
            self._skipped = 0
            return True
        self._skipped += 1
        return False

    def steady_matte(self, motion: Motion | None, matte: np.ndarray | None) -> np.ndarray:
        """The frame's matte after the temporal step; ``matte`` None for a skipped frame."""
        if self.steady is None or motion is None:
            assert matte is not None
            return matte
        return self.steady.update(motion, matte)

    def compose(self, rgb: np.ndarray, matte: np.ndarray) -> np.ndarray:
        kind = self.spec.type
        if kind is OutputType.ALPHA:
            return matte
        if kind is OutputType.MASK:
            return np.asarray(compose.mask_output(matte))
        if kind is OutputType.BLUR:
            # The frame's own colours at the person's soft edge, not estimated ones: what they
            # hold of the background is the same scene the blur shows there, and estimating
            # them would cost more than the rest of the frame's composing (a photo's blur does
            # estimate them; a clip's must keep pace with its frames).
            background = compose.blurred_background(rgb, matte, self.spec.blur_strength)
            return compose.flatten(compose.Cutout(rgb, matte), background)
        cutout = compose.Cutout(matting.estimate_foreground(rgb, matte), matte)
        if kind is OutputType.BACKGROUND:
            if self._background_image is not None:
                return compose.flatten(cutout, self._backdrop_for(cutout.size))
            assert self.spec.bg_color is not None
            return compose.flatten(cutout, np.asarray(self.spec.bg_color[:3], np.uint8))
        return compose.foreground_output(cutout.colors, cutout.alpha)

    def frame_matte(self, rgb: np.ndarray) -> np.ndarray:
        """The next frame's steady matte (or its own, without the temporal step)."""
        motion = self.follow(rgb)
        matte = self.matte(rgb) if self.needs_model(motion) else None
        return self.steady_matte(motion, matte)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self.compose(rgb, self.frame_matte(rgb))

    def _backdrop_for(self, size: tuple[int, int]) -> np.ndarray:
        if self._backdrop is None or (self._backdrop.shape[1], self._backdrop.shape[0]) != size:
            assert self._background_image is not None
            self._backdrop = compose.cover(self._background_image, size)
        return self._backdrop
