"""Steady edges, measured: per-frame mIoU and flicker, frame by frame vs with the temporal step.

    .venv/bin/python bench/video_quality.py ../shared/eval/dev [more folders] \
        [--photos 20] [--frames 60] [--side 640] [--model auto] [--json]

Each folder holds images/NAME.jpg and masks/NAME.png. Every photo becomes a clip filmed by a
moving virtual camera (pan, zoom, small rotation, brightness drift, sensor noise;
``humanseg.video.synthetic``), so each frame's true mask and the motion between frames are
known. The model mattes every frame once; the same mattes are scored as they are and after the
temporal step (``humanseg.video.temporal``). Flicker is the mean absolute change of the matte
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
from humanseg.video.synthetic import CameraPath, camera_clip
from humanseg.video.temporal import SteadyMatte, TemporalParams


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
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()

    pipeline = Pipeline(PipelineSettings())
    renderer = FrameRenderer(
        pipeline.resolver.get(args.model), OutputSpec(), refine=False, steady=None
    )
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
            steady = SteadyMatte(params)
            started = time.perf_counter()
            steadied = [steady(frame.rgb, matte) for frame, matte in zip(frames, raw, strict=True)]
            temporal_s = time.perf_counter() - started
            rows.append(
                {
                    "clip": f"{folder.name}/{pair.name}",
                    "size": size,
                    "miou_frame": clip_miou(raw, truths),
                    "miou_steady": clip_miou(steadied, truths),
                    "flicker_frame": clip_flicker(raw, truths, warps),
                    "flicker_steady": clip_flicker(steadied, truths, warps),
                    "matte_fps": len(frames) / matte_s,
                    "temporal_fps": len(frames) / temporal_s,
                }
            )
            if not args.json:
                row = rows[-1]
                print(
                    f"{row['clip']:<28} mIoU {row['miou_frame']:.4f} → {row['miou_steady']:.4f}"
                    f"  flicker {row['flicker_frame']:.5f} → {row['flicker_steady']:.5f}",
                    flush=True,
                )
    summary = {
        key: float(np.mean([row[key] for row in rows]))
        for key in ("miou_frame", "miou_steady", "flicker_frame", "flicker_steady")
    }
    summary["flicker_ratio"] = summary["flicker_steady"] / max(summary["flicker_frame"], 1e-12)
    summary["clips"] = len(rows)
    summary["frames"] = args.frames
    summary["model"] = args.model
    if args.json:
        print(json.dumps({"summary": summary, "clips": rows}, indent=2))
        return
    print(
        f"\n{len(rows)} clips of {args.frames} frames, model {args.model}: "
        f"mIoU {summary['miou_frame']:.4f} frame by frame, {summary['miou_steady']:.4f} steady; "
        f"flicker {summary['flicker_frame']:.5f} → {summary['flicker_steady']:.5f} "
        f"(×{summary['flicker_ratio']:.2f}; target ≤ 0.5, mIoU no lower)"
    )


if __name__ == "__main__":
    main()
