"""Where one request's time goes, in-process: p50 latency and the top of a cProfile.

    .venv/bin/python bench/where_time_goes.py                       # auto, 1 MP matte
    .venv/bin/python bench/where_time_goes.py --model u2netp --type foreground
    .venv/bin/python bench/where_time_goes.py --model quality --photo standing.jpg

Uses bench.py's synthetic 1 MP photo (a portrait) or, with --photo, that photo scaled to
--megapixels (e.g. someone standing, seen whole, for whom ``quality`` runs other views), and
the default settings (HUMANSEG_* variables apply), so its p50 is the "core" column of bench.py
for one size and output.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from PIL import Image

from bench import OUTPUTS, make_photo
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="auto")
    parser.add_argument("--type", default="alpha", choices=sorted(OUTPUTS))
    parser.add_argument("--megapixels", type=float, default=1.0)
    parser.add_argument("--photo", type=Path, default=None, help="a photo instead of the portrait")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--top", type=int, default=25, help="profile lines to print")
    args = parser.parse_args()

    pipeline = Pipeline(PipelineSettings())
    pipeline.load(args.model)
    photo = args.photo
    jpeg = make_photo(args.megapixels) if photo is None else scaled(photo, args.megapixels)
    output = OUTPUTS[args.type]
    for _ in range(3):
        pipeline.process(jpeg, output, model=args.model)
    samples = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        pipeline.process(jpeg, output, model=args.model)
        samples.append(time.perf_counter() - start)
    print(
        f"{args.model}, {photo.name if photo else 'portrait'}, {args.megapixels} MP, "
        f"{args.type}: p50 "
        f"{statistics.median(samples) * 1000:.1f} ms over {args.repeat} runs"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        pipeline.process(jpeg, output, model=args.model)
    profiler.disable()
    print(f"cProfile of {args.repeat} runs (divide the times by {args.repeat}):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)


def scaled(path: Path, megapixels: float) -> bytes:
    """``path``'s photo as a JPEG of about ``megapixels``."""
    with Image.open(path) as image:
        photo = image.convert("RGB")
    scale = (megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
    size = (round(photo.width * scale), round(photo.height * scale))
    buffer = io.BytesIO()
    photo.resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


if __name__ == "__main__":
    main()
