"""Quality of the matte with and without edge refinement on a dev set of binary person masks.

    .venv/bin/python bench/refine_quality.py [/work/shared/eval/dev]

Runs the core pipeline (``type`` alpha) on every ``images/N.jpg`` and compares with
``masks/N.png``: mIoU at 0.5, MAD and boundary F (boundaries matched within 0.8 % of the image
diagonal, as in DAVIS). The data is read where it lies, never copied.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from humanseg.pipeline import OutputSpec, OutputType, Pipeline
from humanseg.settings import PipelineSettings

BOUNDARY_TOLERANCE = 0.008  # of the image diagonal


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = pred >= 128, truth >= 128
    union = (p | t).sum()
    return float((p & t).sum() / union) if union else 1.0


def mad(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.abs(pred.astype(np.float32) - truth.astype(np.float32)).mean() / 255)


def _boundary(mask: np.ndarray) -> np.ndarray:
    binary = (mask >= 128).astype(np.uint8)
    return (binary - cv2.erode(binary, np.ones((3, 3), np.uint8))).astype(bool)


def boundary_f(pred: np.ndarray, truth: np.ndarray) -> float:
    tolerance = max(1, round(BOUNDARY_TOLERANCE * np.hypot(*pred.shape)))
    bp, bt = _boundary(pred), _boundary(truth)
    if not bp.any() and not bt.any():
        return 1.0
    if not bp.any() or not bt.any():
        return 0.0
    # distance from every pixel to the nearest boundary pixel of the other mask
    dist_t = cv2.distanceTransform((~bt).astype(np.uint8), cv2.DIST_L2, 3)
    dist_p = cv2.distanceTransform((~bp).astype(np.uint8), cv2.DIST_L2, 3)
    precision = float((dist_t[bp] <= tolerance).mean())
    recall = float((dist_p[bt] <= tolerance).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def evaluate(pipeline: Pipeline, folder: Path, refine: bool) -> dict[str, float]:
    scores: dict[str, list[float]] = {"iou": [], "mad": [], "bf": [], "ms": []}
    spec = OutputSpec(type=OutputType.ALPHA, refine=refine)
    for image_path in sorted((folder / "images").glob("*.jpg")):
        truth = np.asarray(Image.open(folder / "masks" / f"{image_path.stem}.png").convert("L"))
        start = time.perf_counter()
        output = pipeline.process(image_path.read_bytes(), spec)
        scores["ms"].append((time.perf_counter() - start) * 1000)
        pred = np.asarray(Image.open(io.BytesIO(output.data)).convert("L"))
        if truth.shape != pred.shape:  # a few masks are stored smaller than their photo
            truth = cv2.resize(truth, pred.shape[::-1], interpolation=cv2.INTER_LINEAR)
        scores["iou"].append(iou(pred, truth))
        scores["mad"].append(mad(pred, truth))
        scores["bf"].append(boundary_f(pred, truth))
    return {name: float(np.mean(values)) for name, values in scores.items()} | {
        "n": len(scores["iou"])
    }


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/eval/dev")
    pipeline = Pipeline(PipelineSettings(inference_threads=2), concurrency=1)
    pipeline.load()
    print(f"dev set: {folder}")
    print(f"{'pipeline':<22} {'n':>3} {'mIoU':>7} {'MAD':>7} {'bound-F':>8} {'ms/img':>7}")
    for refine in (False, True):
        r = evaluate(pipeline, folder, refine)
        name = "selfie + guided filter" if refine else "selfie (bilinear)"
        print(
            f"{name:<22} {r['n']:>3.0f} {r['iou']:>7.4f} {r['mad']:>7.4f} {r['bf']:>8.4f} "
            f"{r['ms']:>7.1f}"
        )


if __name__ == "__main__":
    main()
