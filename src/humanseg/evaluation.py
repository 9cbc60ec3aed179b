"""``humanseg eval``: score models and pipelines on a folder of photos and reference masks.

The folder holds ``images/NAME.{jpg,jpeg,png,bmp}`` and ``masks/NAME.png`` (255 = person).
Each photo goes through the same ``Pipeline.process`` as an API request (decode, model, matte,
encode); the matte is compared with the mask at the mask's size.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from humanseg import metrics
from humanseg.errors import error
from humanseg.pipeline import Pipeline

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class Pair:
    name: str
    image: Path
    mask: Path


@dataclass(frozen=True)
class Score:
    model: str
    images: int
    miou: float
    mad: float
    boundary_f: float
    median_ms: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def find_pairs(directory: Path) -> list[Pair]:
    images, masks = directory / "images", directory / "masks"
    if not images.is_dir() or not masks.is_dir():
        raise error("invalid_request", f"{directory} needs the folders images/ and masks/.")
    pairs = [
        Pair(path.stem, path, masks / f"{path.stem}.png")
        for path in sorted(images.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES and (masks / f"{path.stem}.png").is_file()
    ]
    if not pairs:
        raise error("invalid_request", f"{directory} has no image with a matching masks/NAME.png.")
    return pairs


def load_mask(path: Path) -> np.ndarray:
    with Image.open(path) as mask:
        return np.asarray(mask.convert("L"))


def matte_at(matte: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The matte resized (bilinear) to a reference mask's (height, width)."""
    if matte.shape == shape:
        return matte
    image = Image.fromarray(matte, "L").resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
    return np.asarray(image)


def evaluate(
    pipeline: Pipeline,
    pairs: list[Pair],
    model: str,
    *,
    on_image: Callable[[], None] | None = None,
) -> Score:
    pipeline.load(model)  # pull, load and warm up outside the timings
    ious, mads, fscores, times = [], [], [], []
    for pair in pairs:
        data = pair.image.read_bytes()
        start = time.perf_counter()
        output = pipeline.process(data, model=model)
        times.append((time.perf_counter() - start) * 1000.0)
        truth = load_mask(pair.mask)
        with Image.open(io.BytesIO(output.data)) as decoded:
            matte = matte_at(np.asarray(decoded.convert("L")), truth.shape)
        ious.append(metrics.iou(matte, truth))
        mads.append(metrics.mad(matte, truth))
        fscores.append(metrics.boundary_f(matte, truth))
        if on_image is not None:
            on_image()
    return Score(
        model=model,
        images=len(pairs),
        miou=float(np.mean(ious)),
        mad=float(np.mean(mads)),
        boundary_f=float(np.mean(fscores)),
        median_ms=float(statistics.median(times)),
    )


def format_table(scores: list[Score]) -> str:
    header = (
        f"| model | images | mIoU@0.5 | MAD | boundary F ({metrics.BOUNDARY_TOLERANCE_PX} px) "
        "| median ms |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---:|"]
    for s in scores:
        lines.append(
            f"| {s.model} | {s.images} | {s.miou:.3f} | {s.mad:.4f} | {s.boundary_f:.3f} "
            f"| {s.median_ms:.0f} |"
        )
    return "\n".join(lines)
