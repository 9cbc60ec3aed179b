"""Steady edges: the previous matte carried along the motion and blended into the current one.

A model run frame by frame flickers: its edges and weak regions change from one frame to the
next although the person barely moved. :class:`SteadyMatte` estimates the motion between two
frames with OpenCV's dense inverse search (DIS) optical flow, warps the previous steady matte
to the current frame and blends the two where the flow can be trusted, i.e. where the warped
previous frame looks like the current one. Where the person moves, the matte moves with them;
where the flow fails (fast motion, something new in view) the current matte is taken as it is.
The blend is an exponential average along the motion, so a wobble of the model's edges is
averaged away. Its numbers were chosen on synthetic clips of the dev photos
(bench/video_quality.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from humanseg import imaging

# Longest side at which the flow is computed: the mattes come from ~256 px models, so finer
# motion than this adds cost and no steadiness.
FLOW_SIDE = 480


@dataclass(frozen=True)
class TemporalParams:
    # weight of the warped previous matte where the flow holds (an exponential average)
    keep: float = 0.85
    # photometric error (0 … 1, local mean) of the warped previous frame at which the flow is
    # no longer trusted at all; the weight falls linearly up to it
    photo_tolerance: float = 0.15

    def with_model_every(self, every: int) -> TemporalParams:
        """The numbers for the model on every ``every``-th frame only: the blend then happens
        once per ``every`` frames, so the carried matte's share is lowered to keep its memory
        the same in frames (``1 / (1 - keep)``); otherwise the matte lags and, resampled more
        often between fresh mattes, loses its edges (mIoU falls)."""
        return replace(self, keep=max(0.0, 1.0 - every * (1.0 - self.keep)))


def flow_gray(rgb: np.ndarray) -> np.ndarray:
    """The frame as the small grayscale image the flow is computed on."""
    height, width = rgb.shape[:2]
    size = imaging.fit_size((width, height), FLOW_SIDE)
    small = imaging.resize_array(rgb, size)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def _flow_estimator() -> cv2.DISOpticalFlow:
    return cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_FAST)


def backward_flow(
    previous: np.ndarray, current: np.ndarray, estimator: cv2.DISOpticalFlow | None = None
) -> np.ndarray:
    """For each pixel of ``current``, the offset (dx, dy) to where it was in ``previous``."""
    estimator = estimator or _flow_estimator()
    return estimator.calc(current, previous, None)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` (any size) pulled along ``flow`` (computed at a smaller size, scaled up)."""
    height, width = image.shape[:2]
    flow_height, flow_width = flow.shape[:2]
    if (flow_width, flow_height) != (width, height):
        # scaled where it is small, then resized: the same values for a quarter of the work
        scale = np.array([width / flow_width, height / flow_height], np.float32)
        flow = cv2.resize(flow * scale, (width, height), interpolation=cv2.INTER_LINEAR)
    # a relative map: each pixel's offset, not its absolute source position
    return cv2.remap(
        image,
        flow,
        None,
        cv2.INTER_LINEAR | cv2.WARP_RELATIVE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def blend_weight(photo_error: np.ndarray, params: TemporalParams) -> np.ndarray:
    """How much of the warped previous matte to keep, per pixel, in [0, keep]."""
    trust = np.clip(1.0 - photo_error / params.photo_tolerance, 0.0, 1.0)
    return (params.keep * trust).astype(np.float32)


@dataclass(frozen=True)
class Motion:
    """How the current frame moved from the previous one, at the flow's size."""

    gray: np.ndarray  # the current frame as :func:`flow_gray` makes it
    shape: tuple[int, ...]  # the full frame's shape
    flow: np.ndarray | None = None  # backward flow (see :func:`backward_flow`); None: no previous
    weight: np.ndarray | None = None  # how much of the carried matte to keep, per pixel

    @property
    def trusted(self) -> float:
        """The share of the frame where the flow holds (0 without a previous frame)."""
        if self.weight is None:
            return 0.0
        return float(np.count_nonzero(self.weight > 0)) / self.weight.size


def follow(
    previous_gray: np.ndarray,
    current_gray: np.ndarray,
    params: TemporalParams = TemporalParams(),
    estimator: cv2.DISOpticalFlow | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The backward flow between two small frames, and the blend weight of what it carries:
    high where the previous frame, moved along the flow, looks like the current one."""
    flow = backward_flow(previous_gray, current_gray, estimator)
    warped_gray = warp(previous_gray, flow).astype(np.float32)
    current = current_gray.astype(np.float32)
    # a global change of brightness (exposure, lighting) is not a failure of the flow
    warped_gray += float(np.mean(current) - np.mean(warped_gray))
    photo_error = cv2.GaussianBlur(np.abs(warped_gray - current), (5, 5), 0) / 255.0
    return flow, blend_weight(photo_error, params)


def steady_small(
    previous_gray: np.ndarray,
    current_gray: np.ndarray,
    previous_matte: np.ndarray,
    current_matte: np.ndarray,
    params: TemporalParams = TemporalParams(),
    estimator: cv2.DISOpticalFlow | None = None,
) -> np.ndarray:
    """The steady matte at the flow's size (float32, 0 … 255), from the previous steady matte
    and the current one, both at that size as well."""
    flow, weight = follow(previous_gray, current_gray, params, estimator)
    return _blended(previous_matte, current_matte, flow, weight)


def _blended(
    previous_matte: np.ndarray, current_matte: np.ndarray, flow: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    warped = warp(previous_matte.astype(np.float32), flow)
    return cv2.blendLinear(warped, current_matte.astype(np.float32), weight, 1.0 - weight)


def at_size(matte: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``matte`` at the size of ``like`` (the small frames of :func:`flow_gray`)."""
    return imaging.resize_array(matte, (like.shape[1], like.shape[0]))


def corrected(matte: np.ndarray, correction: np.ndarray) -> np.ndarray:
    """The full-size ``matte`` plus a small-size ``correction`` (float32), scaled up."""
    height, width = matte.shape
    # rounded to whole levels where it is small: the full-size sum is then integer work only
    small = np.rint(correction).astype(np.int16)
    full = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.add(matte, full, dtype=cv2.CV_8U)


def steady_step(
    previous_gray: np.ndarray,
    current_gray: np.ndarray,
    previous_matte: np.ndarray,
    current_matte: np.ndarray,
    params: TemporalParams = TemporalParams(),
    estimator: cv2.DISOpticalFlow | None = None,
) -> np.ndarray:
    """The steady matte of the current frame, from the previous steady matte and the new one.

    Grays are the small frames of :func:`flow_gray`; mattes are uint8 of any size. The motion
    is followed at the flow's size, and only the change it makes is scaled up and added to the
    full-size matte, so the current frame's fine detail stays and the cost stays small. Pure:
    the same inputs give the same output.
    """
    current_small = at_size(current_matte, current_gray).astype(np.float32)
    small = steady_small(
        previous_gray,
        current_gray,
        at_size(previous_matte, previous_gray),
        current_small,
        params,
        estimator,
    )
    return corrected(current_matte, small - current_small)


class SteadyMatte:
    """The temporal step over a clip: feed frames in order, get steady mattes back.

    Per frame, :meth:`follow` finds the motion from the previous frame, then :meth:`update`
    blends the carried matte with the frame's own matte, or, for a frame the model skipped
    (``matte=None``), carries the previous steady matte along the motion alone.
    """

    def __init__(self, params: TemporalParams = TemporalParams()) -> None:
        self.params = params
        self._estimator = _flow_estimator()
        # what follow saw last: it may run ahead of update, in another thread
        self._followed: np.ndarray | None = None
        self._followed_shape: tuple[int, ...] | None = None
        self._small: np.ndarray | None = None  # the steady matte at the flow's size, float32
        self._full: np.ndarray | None = None  # the last steady matte, full size

    def follow(self, rgb: np.ndarray) -> Motion:
        """The motion from the frame followed before (frames in order, each once)."""
        gray = flow_gray(rgb)
        previous, shape = self._followed, self._followed_shape
        self._followed, self._followed_shape = gray, rgb.shape
        if previous is None or shape != rgb.shape or previous.shape != gray.shape:
            return Motion(gray, rgb.shape)  # the first frame of a clip (or of a new one)
        flow, weight = follow(previous, gray, self.params, self._estimator)
        return Motion(gray, rgb.shape, flow, weight)

    def can_carry(self, motion: Motion, min_trusted: float) -> bool:
        """Whether the previous matte may stand for this frame's, carried along the motion:
        there is one, and the flow holds on at least ``min_trusted`` of the frame (a cut to
        another scene, or a sudden change, fails this)."""
        return motion.flow is not None and motion.trusted >= min_trusted

    def update(self, motion: Motion, matte: np.ndarray | None) -> np.ndarray:
        """The steady matte of the frame ``motion`` came from; ``matte`` is the frame's own
        (uint8, full size), or None to carry the previous steady matte alone."""
        if (
            motion.flow is None
            or motion.weight is None
            or self._small is None
            or self._full is None
        ):
            if matte is None:
                raise ValueError("the first frame of a clip needs its own matte")
            steady, small = matte, at_size(matte, motion.gray).astype(np.float32)
        elif matte is None:
            small = warp(self._small, motion.flow)
            steady = warp(self._full, motion.flow)
        else:
            current_small = at_size(matte, motion.gray).astype(np.float32)
            small = _blended(self._small, current_small, motion.flow, motion.weight)
            steady = corrected(matte, small - current_small)
        self._small, self._full = small, steady
        return steady

    def __call__(self, rgb: np.ndarray, matte: np.ndarray) -> np.ndarray:
        return self.update(self.follow(rgb), matte)
