"""What the person gate's further looks cost: in-process matte time with the shipped gate
against the same pipeline whose gate stops after the two detectors and never turns a photo,
in the same run.

    .venv/bin/python bench/gate_looks.py                  # auto
    .venv/bin/python bench/gate_looks.py --model quality

The further looks (the landmark model's pose flag on up to three squares, then, on a dim or
flat photo, all the looks again with its levels stretched) only run while the detectors
doubt: on scikit-image's person-free images (as they are, and darkened), and on a portrait
turned black-and-white and blurred. A photo of a person the detectors are sure of (the
portrait itself) runs none. Where the guide sees nobody, the face detector looks at square
tiles of the photo (a black-and-white portrait in a wide photo is found so), and then the
guide itself looks at square tiles (a person a quarter as high as the photo is found so), as
it does where it sees only a speck of someone (a person a little larger). A person lying
down (the portrait on its side) is looked at again with the photo turned upright, and matted
so; where the guide sees nobody (most person-free images), the pose detector also looks at
the whole photo for someone lying down.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import replace

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter
from skimage import data

from humanseg.evaluation import person_free_images
from humanseg.models.matter import PresetMatter
from humanseg.models.presets import PRESETS
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings
from humanseg.transforms import placed


def _timed(matter: PresetMatter, rgb: np.ndarray, repeat: int) -> float:
    size = (rgb.shape[1], rgb.shape[0])
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        matter.matte(rgb, size)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _wide(portrait: Image.Image) -> np.ndarray:
    """The portrait in black and white, a third of a grey photo three times as wide: the
    guide sees nobody in it, the face detector's tiles find the face."""
    wide = Image.new("RGB", (600, 200), (128, 128, 128))
    wide.paste(portrait.convert("L").convert("RGB").resize((200, 200)), (200, 0))
    return np.asarray(wide)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="auto", choices=sorted(PRESETS))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pipeline = Pipeline(PipelineSettings())
    pipeline.load(args.model)
    shipped = pipeline.resolver.get(args.model)
    assert isinstance(shipped, PresetMatter)
    spec = PRESETS[args.model]
    detectors_only = PresetMatter(
        replace(
            spec,
            stretch_from=math.inf,
            gate=replace(
                spec.gate, landmarks=None, turn_from=None, face_tiles=False, guide_tiles=False
            ),
        ),
        pipeline.registry,
        pipeline.face_detector,
    )
    portrait = Image.fromarray(data.astronaut())
    free = [rgb for _, rgb in person_free_images()]
    groups = {
        "portrait (no further look)": [np.asarray(portrait)],
        "black-and-white portrait, blurred": [
            np.asarray(portrait.convert("L").filter(ImageFilter.GaussianBlur(4)).convert("RGB"))
        ],
        "portrait lying down (head to the right)": [np.ascontiguousarray(np.rot90(portrait, 3))],
        "black-and-white portrait in a wide photo (found below its face)": [_wide(portrait)],
        "portrait a quarter as high as the photo (found in the guide's tiles)": [
            placed(np.asarray(portrait.resize((150, 150))), 4.0, fill=True)
        ],
        "portrait 3.6 times smaller than the photo (a speck to the guide; its tiles)": [
            placed(np.asarray(portrait.resize((150, 150))), 3.6, fill=True)
        ],
        "person-free images": free,
        "person-free images, darkened": [
            np.asarray(ImageEnhance.Brightness(Image.fromarray(rgb)).enhance(0.35)) for rgb in free
        ],
    }
    print(f"| {args.model}: photos | images | shipped gate ms | detectors only ms | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, photos in groups.items():
        for rgb in photos[:1]:  # warm both up on this group's kind of photo
            shipped.matte(rgb, (rgb.shape[1], rgb.shape[0]))
            detectors_only.matte(rgb, (rgb.shape[1], rgb.shape[0]))
        with_looks = statistics.mean(_timed(shipped, rgb, args.repeat) for rgb in photos)
        without = statistics.mean(_timed(detectors_only, rgb, args.repeat) for rgb in photos)
        print(
            f"| {name} | {len(photos)} | {with_looks:.1f} | {without:.1f} | "
            f"{with_looks / without:.2f} |"
        )


if __name__ == "__main__":
    main()
