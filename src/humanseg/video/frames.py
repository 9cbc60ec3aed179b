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
from humanseg.video.temporal import SteadyMatte

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
        steady: SteadyMatte | None,
        background: Image.Image | None = None,
    ) -> None:
        check_video_spec(spec)
        self.matter = matter
        self.spec = spec
        self.refine = refine
        self.steady = steady
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

    def steady_matte(self, rgb: np.ndarray, matte: np.ndarray) -> np.ndarray:
        return matte if self.steady is None else self.steady(rgb, matte)

    def compose(self, rgb: np.ndarray, matte: np.ndarray) -> np.ndarray:
        kind = self.spec.type
        if kind is OutputType.ALPHA:
            return matte
        if kind is OutputType.MASK:
            return np.asarray(compose.mask_output(matte))
        if kind is OutputType.BLUR:
            colors = matting.estimate_foreground(rgb, matte)
            background = compose.blurred_background(rgb, matte, self.spec.blur_strength)
            return compose.flatten(compose.Cutout(colors, matte), background)
        cutout = compose.Cutout(matting.estimate_foreground(rgb, matte), matte)
        if kind is OutputType.BACKGROUND:
            if self._background_image is not None:
                return compose.flatten(cutout, self._backdrop_for(cutout.size))
            assert self.spec.bg_color is not None
            return compose.flatten(cutout, np.asarray(self.spec.bg_color[:3], np.uint8))
        return compose.foreground_output(cutout.colors, cutout.alpha)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self.compose(rgb, self.steady_matte(rgb, self.matte(rgb)))

    def _backdrop_for(self, size: tuple[int, int]) -> np.ndarray:
        if self._backdrop is None or (self._backdrop.shape[1], self._backdrop.shape[0]) != size:
            assert self._background_image is not None
            self._backdrop = compose.cover(self._background_image, size)
        return self._backdrop
