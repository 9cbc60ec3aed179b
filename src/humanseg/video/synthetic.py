"""Test clips from one photo and its mask, filmed by a moving virtual camera.

Each frame is the photo seen through a known affine warp (pan, zoom, a small rotation), with a
drift of brightness and sensor noise on top, so each frame's true mask is the mask through the
same warp, and the motion between any two frames is known exactly. The quality benchmark and
the tests measure mattes on such clips (see :mod:`humanseg.video.steadiness`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CameraPath:
    frames: int = 30
    size: tuple[int, int] = (320, 240)  # (width, height) of the clip
    coverage: float = 0.8  # share of the photo's shorter fit that the view spans at rest
    pan: float = 0.06  # pan amplitude, as a fraction of the view
    zoom: float = 0.06  # zoom amplitude (1 ± zoom)
    rotation_deg: float = 2.0  # rotation amplitude
    brightness: float = 0.08  # brightness drift amplitude (× 1 ± brightness)
    noise: float = 3.0  # standard deviation of the sensor noise, in 8-bit levels
    seed: int = 0


@dataclass(frozen=True)
class SyntheticFrame:
    rgb: np.ndarray  # H×W×3 uint8
    truth: np.ndarray  # H×W uint8, 255 = person
    warp: np.ndarray  # 3×3: photo coordinates → frame coordinates


def camera_warps(photo_size: tuple[int, int], path: CameraPath) -> list[np.ndarray]:
    """The 3×3 warp (photo → frame) of every frame: smooth, slow, different on each axis."""
    photo_w, photo_h = photo_size
    out_w, out_h = path.size
    base = max(out_w / photo_w, out_h / photo_h) / path.coverage  # view inside the photo
    warps = []
    for index in range(path.frames):
        phase = 2 * math.pi * index / max(1, path.frames)
        zoom = base * (1 + path.zoom * math.sin(phase))
        angle = path.rotation_deg * math.sin(phase * 0.5 + 1.0)
        shift_x = path.pan * out_w * math.sin(phase + 0.3)
        shift_y = path.pan * 0.5 * out_h * math.sin(phase * 1.5)
        affine = cv2.getRotationMatrix2D((photo_w / 2, photo_h / 2), angle, zoom)
        # move the photo's centre to the frame's centre, then pan
        affine[0, 2] += out_w / 2 - photo_w / 2 + shift_x
        affine[1, 2] += out_h / 2 - photo_h / 2 + shift_y
        warps.append(np.vstack([affine, [0.0, 0.0, 1.0]]))
    return warps


def camera_clip(photo: np.ndarray, mask: np.ndarray, path: CameraPath) -> Iterator[SyntheticFrame]:
    """The frames of the clip, in order (``photo`` H×W×3 uint8, ``mask`` H×W uint8)."""
    rng = np.random.default_rng(path.seed)
    height, width = mask.shape
    for index, warp in enumerate(camera_warps((width, height), path)):
        affine = warp[:2]
        rgb = cv2.warpAffine(
            photo, affine, path.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
        )
        truth = cv2.warpAffine(
            mask, affine, path.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
        )
        gain = 1 + path.brightness * math.sin(2 * math.pi * index / max(1, path.frames) + 2.0)
        noisy = rgb.astype(np.float32) * gain + rng.normal(0, path.noise, rgb.shape)
        yield SyntheticFrame(np.clip(noisy + 0.5, 0, 255).astype(np.uint8), truth, warp)
