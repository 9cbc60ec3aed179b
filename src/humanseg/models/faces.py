"""Face detection with MediaPipe's short-range BlazeFace model (for ID-photo framing).

The model (128×128 RGB in [-1, 1]) is an SSD with 896 anchors: a 16×16 grid with 2 anchors
per cell (stride 8) and an 8×8 grid with 6 anchors per cell (strides 16, three layers merged),
every anchor of unit size. Each anchor regresses 16 numbers: box centre and size, then six
key points (right eye, left eye, nose tip, mouth, right ear, left ear), in input pixels
relative to the anchor centre. This mirrors MediaPipe's face_detection_short_range graph.
"""

from __future__ import annotations

from functools import cache, partial

import numpy as np
from PIL import Image

from humanseg.compose import Face
from humanseg.models.catalog import ModelSpec
from humanseg.models.runtimes import LiteRTSession, SessionPool, session_threads
from humanseg.models.store import ModelStore

INPUT_SIZE = 128
MIN_SCORE = 0.6  # MediaPipe uses 0.5; false faces on clothes and cats score about 0.5
NMS_IOU = 0.3


@cache
def anchors() -> np.ndarray:
    """(896, 2) anchor centres (x, y) in [0, 1]."""
    centres = []
    for grid, per_cell in ((16, 2), (8, 6)):
        ys, xs = np.mgrid[0:grid, 0:grid]
        cells = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode(
    regressors: np.ndarray, scores: np.ndarray, *, min_score: float = MIN_SCORE
) -> list[tuple[np.ndarray, float]]:
    """Raw outputs (896×16, 896) to [(16 values in [0, 1] of the input, score)] after NMS.

    The 16 values are: x_min, y_min, x_max, y_max, then six (x, y) key points.
    """
    probabilities = 1.0 / (1.0 + np.exp(-np.clip(scores.astype(np.float64), -100, 100)))
    keep = np.flatnonzero(probabilities >= min_score)
    if keep.size == 0:
        return []
    raw = regressors[keep] / INPUT_SIZE
    centre = anchors()[keep]
    cx, cy = raw[:, 0] + centre[:, 0], raw[:, 1] + centre[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    points = raw[:, 4:16].reshape(-1, 6, 2) + centre[:, None, :]
    detections = np.concatenate([boxes, points.reshape(-1, 12)], axis=1)
    return _weighted_nms(detections, probabilities[keep])


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    left = np.maximum(box[0], boxes[:, 0])
    top = np.maximum(box[1], boxes[:, 1])
    right = np.minimum(box[2], boxes[:, 2])
    bottom = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _weighted_nms(detections: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: overlapping detections are averaged by score."""
    order = np.argsort(-scores)
    detections, scores = detections[order], scores[order]
    results = []
    remaining = np.arange(len(scores))
    while remaining.size:
        overlaps = _iou(detections[remaining[0], :4], detections[remaining, :4]) > NMS_IOU
        group = remaining[overlaps]
        weights = scores[group][:, None]
        merged = (detections[group] * weights).sum(axis=0) / weights.sum()
        results.append((merged, float(scores[group[0]])))
        remaining = remaining[~overlaps]
    return results


class FaceDetector:
    """Finds faces in a photo; safe to call from many threads at once."""

    def __init__(self, spec: ModelSpec, store: ModelStore, *, threads: int, pool_size: int):
        self.spec = spec
        path = store.ensure(spec)
        threads = session_threads(threads, spec.runtime)
        self._pool = SessionPool(partial(LiteRTSession, path, threads=threads), size=pool_size)

    def _run(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray, int, int, float]:
        """The model's raw outputs for ``image`` letterboxed into the square input, as
        MediaPipe does (faces keep their proportions), with the padding and scale used."""
        side = max(image.width, image.height)
        scale = INPUT_SIZE / side
        width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
        pad_x, pad_y = (INPUT_SIZE - width) // 2, (INPUT_SIZE - height) // 2
        small = image.convert("RGB").resize(
            (width, height), Image.Resampling.BILINEAR, reducing_gap=3.0
        )
        canvas[pad_y : pad_y + height, pad_x : pad_x + width] = np.asarray(small, np.float32)
        tensor = (canvas / 127.5 - 1.0)[None]
        with self._pool.session() as session:
            outputs = session.run(np.ascontiguousarray(tensor, dtype=np.float32))
        regressors, scores = sorted(outputs, key=lambda output: output.shape[-1], reverse=True)
        return regressors.reshape(-1, 16), scores.reshape(-1), pad_x, pad_y, scale

    def score(self, rgb: np.ndarray) -> float:
        """The probability of the likeliest face in ``rgb`` (the person gate's second
        opinion: a face seen from close by, or in grayscale, where the pose detector fails)."""
        _, scores, _, _, _ = self._run(Image.fromarray(rgb))
        best = float(np.max(scores)) if scores.size else -100.0
        return float(1.0 / (1.0 + np.exp(-np.clip(best, -100.0, 100.0))))

    def detect(
        self, rgb: Image.Image, region: tuple[int, int, int, int] | None = None
    ) -> list[Face]:
        """Faces in ``rgb`` (or in ``region`` of it), in the photo's pixel coordinates."""
        left, top = (region[0], region[1]) if region else (0, 0)
        image = rgb.crop(region) if region else rgb
        regressors, scores, pad_x, pad_y, scale = self._run(image)
        faces = []
        for values, score in decode(regressors, scores):
            xs = (values[0::2] * INPUT_SIZE - pad_x) / scale + left
            ys = (values[1::2] * INPUT_SIZE - pad_y) / scale + top
            faces.append(
                Face(
                    box=(float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1])),
                    right_eye=(float(xs[2]), float(ys[2])),
                    left_eye=(float(xs[3]), float(ys[3])),
                    score=score,
                )
            )
        return faces

    def detect_tiled(self, rgb: Image.Image, region: tuple[int, int, int, int]) -> list[Face]:
        """Faces in ``region``, looked for in overlapping square tiles across it.

        Small faces (a full-length photo, or several people side by side) are too small for
        the 128-px input when the whole frame is letterboxed; square tiles as tall as the
        region's short side make them large enough. Duplicates from overlaps are merged.
        """
        left, top, right, bottom = region
        side = max(1, min(right - left, bottom - top))
        step = max(1, side // 2)
        found: list[Face] = []
        for x in range(left, max(left, right - side) + step, step):
            x = min(x, max(left, right - side))
            found.extend(self.detect(rgb, (x, top, x + side, top + side)))
        merged: list[Face] = []
        for face in sorted(found, key=lambda f: -f.score):
            box = np.asarray(face.box)
            if not any(_iou(box, np.asarray([kept.box]))[0] > NMS_IOU for kept in merged):
                merged.append(face)
        return merged
