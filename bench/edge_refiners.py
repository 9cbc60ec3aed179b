"""Colour-aware edge steps after a pipeline's fusion, scored k-fold as `humanseg eval` scores.

    .venv/bin/python bench/edge_refiners.py ../shared/eval/dev ../shared/eval/dev-fullbody \
        --model quality --folds 5

Each photo goes through the pipeline's models once (``PresetMatter.evidence``); for each fold
the fusion's numbers are chosen on the other folds (``evaluation.choose``), the held-out
photos are fused with them, and every edge step below is applied to the same matte before
scoring at the mask's size:

- ``none``: the matte as the pipeline answers it;
- ``guided``: the guided filter behind ``HUMANSEG_REFINE_EDGES`` (``matting.refine_matte``);
- ``grabcut``: OpenCV's GrabCut (colour models of the near foreground and background) in a
  band of ±1.5 % of the long side around the matte's edge, at 400 px;
- ``projection``: each band pixel's colour projected on the line between the local mean
  colours of the sure foreground and the sure background (a local, closed-form alpha), at
  512 px; ``projection-half`` averages it with the matte.

The data is read where it lies, never copied.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from humanseg import evaluation, matting, scoring
from humanseg.models.matter import PresetMatter
from humanseg.models.presets import PRESETS
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings

EdgeStep = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (rgb, alpha uint8) -> alpha


def _work_size(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    height, width = shape[:2]
    scale = min(1.0, side / max(height, width))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _sure(alpha: np.ndarray, band: int) -> tuple[np.ndarray, np.ndarray]:
    """Sure foreground and sure background: the matte eroded and dilated by ``band`` px."""
    person = (alpha >= 128).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    return cv2.erode(person, kernel).astype(bool), ~cv2.dilate(person, kernel).astype(bool)


def _paste(alpha: np.ndarray, small: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``small`` (float in [0, 1], work size) pasted over ``alpha`` where ``where`` is set."""
    height, width = alpha.shape
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    mask = cv2.resize(where.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    out = alpha.copy()
    out[mask > 0] = np.clip(big[mask > 0] * 255 + 0.5, 0, 255).astype(np.uint8)
    return out


def grabcut(side: int = 400, band_fraction: float = 0.015, rounds: int = 2) -> EdgeStep:
    def step(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        size = _work_size(alpha.shape, side)
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        small_alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        sure_fg, sure_bg = _sure(small_alpha, max(1, round(band_fraction * max(size))))
        if not sure_fg.any() or not sure_bg.any():
            return alpha
        labels = np.where(small_alpha >= 128, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        labels[sure_fg], labels[sure_bg] = cv2.GC_FGD, cv2.GC_BGD
        models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        cv2.grabCut(bgr, labels, None, *models, rounds, cv2.GC_INIT_WITH_MASK)
        person = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
        return _paste(alpha, person, ~(sure_fg | sure_bg))

    return step


def projection(
    side: int = 512, band_fraction: float = 0.01, window_fraction: float = 0.03, mix: float = 1.0
) -> EdgeStep:
    def step(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        size = _work_size(alpha.shape, side)
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        small_alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        sure_fg, sure_bg = _sure(small_alpha, max(1, round(band_fraction * max(size))))
        radius = max(2, round(window_fraction * max(size)))
        window = (2 * radius + 1, 2 * radius + 1)

        def local_mean(where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            weight = where.astype(np.float32)
            count = cv2.boxFilter(weight, -1, window, normalize=False)
            total = cv2.boxFilter(small * weight[..., None], -1, window, normalize=False)
            return total / np.maximum(count, 1)[..., None], count

        fg, fg_count = local_mean(sure_fg)
        bg, bg_count = local_mean(sure_bg)
        axis = fg - bg
        length2 = (axis * axis).sum(2)
        estimate = np.clip(((small - bg) * axis).sum(2) / np.maximum(length2, 1e-6), 0, 1)
        usable = (fg_count > 0) & (bg_count > 0) & (length2 > 0.15**2) & ~(sure_fg | sure_bg)
        blended = (1 - mix) * small_alpha.astype(np.float32) / 255 + mix * estimate
        return _paste(alpha, blended, usable)

    return step


STEPS: dict[str, EdgeStep] = {
    "none": lambda rgb, alpha: alpha,
    "guided": matting.refine_matte,
    "grabcut": grabcut(),
    "projection": projection(),
    "projection-half": projection(mix=0.5),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--model", default="quality", choices=sorted(PRESETS))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    pipeline = Pipeline(PipelineSettings(refine_edges=True))  # full-size photos, to refine with
    spec = PRESETS[args.model]
    pipeline.load(args.model)
    matter = PresetMatter(spec, pipeline.registry, pipeline.face_detector)
    pairs = [pair for folder in args.directories for pair in evaluation.find_pairs(folder)]
    items = evaluation.collect(pipeline, matter, pairs)
    scores: dict[str, list[evaluation.PhotoScore]] = {name: [] for name in STEPS}
    for fold in range(args.folds):
        training = [i for i in items if evaluation.fold_of(i.photo.pair, args.folds) != fold]
        params = evaluation.choose(training, spec.params)
        for item in items:
            if evaluation.fold_of(item.photo.pair, args.folds) != fold:
                continue
            photo = item.photo
            matte = matter.matte_from(item.evidence, photo.size, params)
            for name, step in STEPS.items():
                start = time.perf_counter()
                alpha = step(np.asarray(photo.rgb), matte.alpha)
                ms = (time.perf_counter() - start) * 1000.0
                alpha = matting.apply_own_alpha(alpha, photo.alpha)
                resized = evaluation.matte_at(alpha, photo.truth.shape)
                scores[name].append(
                    evaluation.PhotoScore(
                        set=photo.pair.set,
                        name=photo.pair.name,
                        iou=scoring.iou(resized, photo.truth),
                        mad=scoring.mad(resized, photo.truth),
                        boundary_f=scoring.boundary_f(resized, photo.truth),
                        ms=ms,  # the edge step's own time
                        confidence=matte.confidence,
                        empty=evaluation.is_empty(alpha),
                    )
                )
    rows = [
        row
        for name, photo_scores in scores.items()
        for row in evaluation.summarise(f"{args.model}+{name}", photo_scores, held_out=True)
    ]
    print(evaluation.format_table(rows))


if __name__ == "__main__":
    main()
