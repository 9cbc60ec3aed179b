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
  512 px; ``projection-half`` averages it with the matte;
- ``cf-B``: a closed-form matte (Levin et al., 2008; ``pymatting.estimate_alpha_cf``) in the
  unknown band of a trimap from the matte (its person eroded and dilated by B of the long
  side), solved at 400 px (``-512``: at 512 px) on the box around the band and pasted back in
  the band only; ``-half`` averages it with the matte, ``-sharp`` steepens the result ×4
  around 0.5 (``-hard``: ×100, nearly binary); ``lbdm-B`` solves the same trimap by
  learning-based matting (Zheng & Kambhamettu, 2009; ``pymatting.estimate_alpha_lbdm``);
- ``STEP-tall``: each step only for a person standing, seen whole (``Evidence.aspect``, the
  height / width of the person's box, at least 2.5);
  the others keep the matte.

The table has a row per step and folder; then the step's own time per photo where it runs
(pymatting's kernels are compiled before timing), and the photos each step hurts most.
Needs the `bench` extra (pymatting). The data is read where it lies, never copied.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pymatting

from humanseg import evaluation, matting
from humanseg.models.matter import Matte, PresetMatter
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


def closed_form(
    side: int = 400,
    band_fraction: float = 0.015,
    method: str = "cf",
    mix: float = 1.0,
    sharpen: float = 1.0,
) -> EdgeStep:
    """A matte solved in the band by pymatting (``method``: ``cf`` closed-form matting, Levin
    et al. 2008; ``lbdm`` learning-based matting, Zheng & Kambhamettu 2009; ``knn``) from a
    trimap of the pipeline's matte: sure foreground its person eroded by the band, sure
    background dilated. Solved at ``side`` px on the box around the band and pasted back
    (bilinear) in the band only; ``mix`` averages it with the matte, ``sharpen`` steepens
    the result around 0.5 as the fusion's sharpening does."""
    solvers: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "cf": pymatting.estimate_alpha_cf,
        "lbdm": pymatting.estimate_alpha_lbdm,
        "knn": pymatting.estimate_alpha_knn,
    }
    solve = solvers[method]

    def step(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        size = _work_size(alpha.shape, side)
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        small_alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        sure_fg, sure_bg = _sure(small_alpha, max(1, round(band_fraction * max(size))))
        unknown = ~(sure_fg | sure_bg)
        if not sure_fg.any() or not sure_bg.any() or not unknown.any():
            return alpha
        # Only windows that touch an unknown pixel matter: the box around the band, with the
        # 3×3 windows' reach (2 px) around it, is solved and the rest is known.
        ys, xs = np.nonzero(unknown)
        top, bottom = max(0, ys.min() - 2), min(size[1], ys.max() + 3)
        left, right = max(0, xs.min() - 2), min(size[0], xs.max() + 3)
        crop = np.s_[top:bottom, left:right]
        trimap = np.where(sure_fg, 1.0, np.where(sure_bg, 0.0, 0.5))[crop]
        image = small[crop].astype(np.float64) / 255
        solved = np.clip(solve(image, trimap), 0, 1)
        estimate = small_alpha.astype(np.float64) / 255
        mixed = (1 - mix) * estimate[crop] + mix * solved
        estimate[crop] = np.clip((mixed - 0.5) * sharpen + 0.5, 0, 1)
        return _paste(alpha, estimate.astype(np.float32), unknown)

    return step


@dataclass(frozen=True)
class Step:
    """An edge step, applied to every photo or only from a person's box height / width."""

    run: EdgeStep
    tall_from: float = 0.0  # the step applies from this Evidence.aspect (0: to everyone)
    base: str | None = None  # a step whose answer this one takes where it applies

    def applies(self, aspect: float) -> bool:
        return aspect >= self.tall_from


TALL_FROM = 2.5  # Evidence.aspect from which someone is standing, seen whole

EVERYONE: dict[str, EdgeStep] = {
    "none": lambda rgb, alpha: alpha,
    "guided": matting.refine_matte,
    "grabcut": grabcut(),
    "projection": projection(),
    "projection-half": projection(mix=0.5),
    "cf-1%": closed_form(band_fraction=0.01),
    "cf-1.5%": closed_form(band_fraction=0.015),
    "cf-2.5%": closed_form(band_fraction=0.025),
    "cf-1.5%-512": closed_form(side=512, band_fraction=0.015),
    "cf-1.5%-half": closed_form(band_fraction=0.015, mix=0.5),
    "cf-1%-sharp": closed_form(band_fraction=0.01, sharpen=4.0),
    "cf-1%-hard": closed_form(band_fraction=0.01, sharpen=100.0),
    "cf-1.5%-sharp": closed_form(band_fraction=0.015, sharpen=4.0),
    "cf-1.5%-half-sharp": closed_form(band_fraction=0.015, mix=0.5, sharpen=4.0),
    "lbdm-1.5%": closed_form(band_fraction=0.015, method="lbdm"),
}
STEPS: dict[str, Step] = {
    **{name: Step(run) for name, run in EVERYONE.items()},
    **{
        f"{name}-tall": Step(run, tall_from=TALL_FROM, base=name)
        for name, run in EVERYONE.items()
        if name != "none"
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--model", default="quality", choices=sorted(PRESETS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--steps", nargs="+", choices=sorted(STEPS), default=sorted(STEPS), metavar="STEP"
    )
    parser.add_argument("--worst", type=int, default=3, help="photos each step hurts most")
    args = parser.parse_args()
    names = [name for name in STEPS if name in args.steps or name == "none"]
    pipeline = Pipeline(PipelineSettings(refine_edges=True))  # full-size photos, to refine with
    spec = PRESETS[args.model]
    pipeline.load(args.model)
    matter = PresetMatter(spec, pipeline.registry, pipeline.face_detector)
    pairs = [pair for folder in args.directories for pair in evaluation.find_pairs(folder)]
    items = evaluation.collect(pipeline, matter, pairs)
    # a first run of each step outside the timings (pymatting compiles its kernels)
    warm = items[0].photo
    warm_alpha = matter.matte_from(items[0].evidence, warm.size, spec.params).alpha
    for name in names:
        STEPS[name].run(np.asarray(warm.rgb), warm_alpha)
    scores: dict[str, list[evaluation.PhotoScore]] = {name: [] for name in names}
    for fold in range(args.folds):
        training = [i for i in items if evaluation.fold_of(i.photo.pair, args.folds) != fold]
        params = evaluation.choose_on(training, spec)
        for item in items:
            if evaluation.fold_of(item.photo.pair, args.folds) != fold:
                continue
            photo = item.photo
            matte = matter.matte_from(item.evidence, photo.size, params)
            done: dict[str, evaluation.PhotoScore] = {}
            for name in names:
                step = STEPS[name]
                if not step.applies(item.evidence.aspect):
                    score = replace(done["none"], ms=0.0)
                elif step.base is not None and step.base in done:
                    score = done[step.base]
                else:
                    score = _scored(step.run, photo, matte)
                done[name] = score
                scores[name].append(score)
    rows = [
        row
        for name, photo_scores in scores.items()
        for row in evaluation.summarise(f"{args.model}+{name}", photo_scores, held_out=True)
    ]
    print(evaluation.format_table(rows))
    print(f"\n| step | photos | ms where it runs: median | max | people from h/w {TALL_FROM} |")
    print("|---|---:|---:|---:|---:|")
    for name, photo_scores in scores.items():
        ran = [s.ms for s in photo_scores if s.ms > 0] or [0.0]
        tall = sum(STEPS[name].tall_from > 0 and s.ms > 0 for s in photo_scores)
        print(f"| {name} | {len(ran)} | {np.median(ran):.0f} | {max(ran):.0f} | {tall} |")
    baseline = {(s.set, s.name): s for s in scores["none"]}
    print(f"\nThe {args.worst} photos each step hurts most (IoU, MAD against none):")
    for name, photo_scores in scores.items():
        if name == "none":
            continue
        worst = sorted(photo_scores, key=lambda s: s.iou - baseline[(s.set, s.name)].iou)
        text = ", ".join(
            f"{s.set}/{s.name} {s.iou - baseline[(s.set, s.name)].iou:+.3f} "
            f"{s.mad - baseline[(s.set, s.name)].mad:+.4f}"
            for s in worst[: args.worst]
        )
        print(f"- {name}: {text}")


def _scored(run: EdgeStep, photo: evaluation.Photo, matte: Matte) -> evaluation.PhotoScore:
    """``run`` on the held-out matte, timed (the score's ``ms`` is the step's own time), scored
    as `humanseg eval` scores, with ``run`` in place of the guided filter."""
    start = time.perf_counter()
    alpha = run(np.asarray(photo.rgb), matte.alpha)
    ms = (time.perf_counter() - start) * 1000.0
    return photo.score(Matte(alpha, matte.confidence), ms, refine=False)


if __name__ == "__main__":
    main()
