"""Steady edges, measured: per-frame mIoU and flicker, frame by frame vs with the temporal step.

    .venv/bin/python bench/video_quality.py ../shared/eval/dev [more folders] \
        [--photos 20] [--frames 60] [--side 640] [--model auto] [--model-every 1,2] [--json]

Each folder holds images/NAME.jpg and masks/NAME.png. Every photo becomes a clip filmed by a
moving virtual camera (pan, zoom, small rotation, brightness drift, sensor noise;
``humanseg.video.synthetic``), so each frame's true mask and the motion between frames are
known. The model mattes every frame once; the same mattes are scored as they are and after the
temporal step (``humanseg.video.temporal``), with the model on every frame or, with
``--model-every 1,2,3``, on every Nth frame only (the others carried along the motion).
Frame by frame, each frame is matted as a photo; with the temporal step, as a clip
(``humanseg.video.clip_matter``: the person gate's verdict kept for the clip), unless
``--as-photos``. The clip's mattes are computed once for all its frames and replayed.
Flicker is the mean absolute change of the matte
between consecutive frames after undoing the known motion, on pixels whose true mask did not
change (``humanseg.video.steadiness``). Target: flicker at most half of frame by frame, mIoU no
lower.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from humanseg.evaluation import find_pairs, load_mask, matte_at
from humanseg.outputs import OutputSpec
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings
from humanseg.video.frames import FrameRenderer
from humanseg.video.steadiness import clip_flicker, clip_miou
from humanseg.video.synthetic import CameraPath, SyntheticFrame, camera_clip
from humanseg.video.temporal import TemporalParams


def clip_size(photo_size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = photo_size
    scale = side / max(width, height)
    return max(16, round(width * scale / 2) * 2), max(16, round(height * scale / 2) * 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--photos", type=int, default=0, help="Photos per folder (0: all).")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--side", type=int, default=640, help="Longest side of the clips.")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--keep", type=float, default=TemporalParams.keep)
    parser.add_argument(
        "--model-every",
        default="1",
        help="Comma-separated schedules to score: the model on every Nth frame, the frames "
        "between carried along the motion (HUMANSEG_VIDEO_MODEL_EVERY).",
    )
    parser.add_argument(
        "--as-photos",
        action="store_true",
        help="Steady the mattes of the frames matted as photos (the gate on every frame) "
        "instead of as a clip.",
    )
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()
    schedules = [int(part) for part in args.model_every.split(",")]

    pipeline = Pipeline(PipelineSettings())
    matter = pipeline.resolver.get(args.model)
    renderer = FrameRenderer(matter, OutputSpec(), refine=False, steady=None)
    params = TemporalParams(keep=args.keep)
    rows = []
    for folder in args.folders:
        pairs = find_pairs(folder)
        for pair in pairs[: args.photos or None]:
            with Image.open(pair.image) as image:
                photo = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
            # the masks may be stored smaller than their photos
            mask = matte_at(load_mask(pair.mask), photo.shape[:2])
            size = clip_size((photo.shape[1], photo.shape[0]), args.side)
            path = CameraPath(frames=args.frames, size=size, seed=len(rows))
            frames = list(camera_clip(photo, mask, path))
            truths = [frame.truth for frame in frames]
            warps = [frame.warp for frame in frames]
            started = time.perf_counter()
            raw = [renderer.matte(frame.rgb) for frame in frames]
            matte_s = time.perf_counter() - started
            if args.as_photos:
                clip_raw = raw
            else:  # as ``humanseg video`` mattes a clip's frames with the temporal step
                clip_renderer = FrameRenderer(matter, OutputSpec(), refine=False, steady=params)
                clip_raw = [clip_renderer.matte(frame.rgb) for frame in frames]
            row: dict[str, object] = {
                "clip": f"{folder.name}/{pair.name}",
                "size": size,
                "miou_frame": clip_miou(raw, truths),
                "flicker_frame": clip_flicker(raw, truths, warps),
                "matte_fps": len(frames) / matte_s,
            }
            for every in schedules:
                steadied, model_runs = steady_clip(frames, clip_raw, params, every)
                row[f"miou_every{every}"] = clip_miou(steadied, truths)
                row[f"flicker_every{every}"] = clip_flicker(steadied, truths, warps)
                row[f"model_share_every{every}"] = model_runs / len(frames)
            rows.append(row)
            if not args.json:
                cells = "  ".join(
                    f"every {every}: {row[f'miou_every{every}']:.4f} / "
                    f"{row[f'flicker_every{every}']:.5f}"
                    for every in schedules
                )
                print(
                    f"{row['clip']:<28} frame by frame {row['miou_frame']:.4f} / "
                    f"{row['flicker_frame']:.5f}  {cells}",
                    flush=True,
                )
    keys = ["miou_frame", "flicker_frame"]
    for every in schedules:
        keys += [f"miou_every{every}", f"flicker_every{every}", f"model_share_every{every}"]
    summary: dict[str, object] = {key: float(np.mean([row[key] for row in rows])) for key in keys}
    for every in schedules:
        summary[f"flicker_ratio_every{every}"] = summary[f"flicker_every{every}"] / max(
            summary["flicker_frame"], 1e-12
        )
    summary.update(clips=len(rows), frames=args.frames, model=args.model, keep=args.keep)
    if args.json:
        print(json.dumps({"summary": summary, "clips": rows}, indent=2))
        return
    print(
        f"\n{len(rows)} clips of {args.frames} frames, model {args.model}, keep {args.keep}: "
        f"frame by frame mIoU {summary['miou_frame']:.4f}, flicker {summary['flicker_frame']:.5f}"
    )
    for every in schedules:
        print(
            f"steady, model on every {every}: mIoU {summary[f'miou_every{every}']:.4f}, "
            f"flicker {summary[f'flicker_every{every}']:.5f} "
            f"(×{summary[f'flicker_ratio_every{every}']:.2f}; target ≤ 0.5, mIoU no lower), "
            f"model on {summary[f'model_share_every{every}']:.0%} of frames"
        )


def steady_clip(
    frames: list[SyntheticFrame], raw: list[np.ndarray], params: TemporalParams, every: int
) -> tuple[list[np.ndarray], int]:
    """The clip's steady mattes as ``humanseg video`` makes them with the model on every
    ``every``-th frame (the frames it skips get no matte of their own), and the model runs."""
    renderer = FrameRenderer(
        _NoModel(), OutputSpec(), refine=False, steady=params, model_every=every
    )
    mattes, runs = [], 0
    for frame, matte in zip(frames, raw, strict=True):
        motion = renderer.follow(frame.rgb)
        own = None
        if renderer.needs_model(motion):
            own, runs = matte, runs + 1
        mattes.append(renderer.steady_matte(motion, own))
    return mattes, runs


class _NoModel:
    """The renderer's matter for replaying mattes computed once: never asked for one."""

    name = "replay"
    input_size = (0, 0)

    def matte(self, rgb: object, size: tuple[int, int]) -> object:
        raise AssertionError("the mattes are replayed")


if __name__ == "__main__":
    main()
