"""Cost of edge refinement and foreground colour estimation at 1 MP and 16 MP.

    .venv/bin/python bench/refine.py

Times ``matting.refine_matte`` and ``matting.estimate_foreground`` on the astronaut portrait
(scikit-image) scaled to 1000×1000 and 4000×4000, with the model's real coarse matte, and the
whole pipeline (``type`` alpha and foreground) with refinement off and on. Median of 5 runs
(wall clock); the machine's load average is printed, since a shared CPU inflates every figure.
"""

from __future__ import annotations

import io
import os
import statistics
import time

import cv2
import numpy as np
from PIL import Image
from skimage import data

from humanseg import matting
from humanseg.pipeline import OutputSpec, OutputType, Pipeline
from humanseg.settings import PipelineSettings

RUNS = 5


def median_ms(function, *args) -> float:
    function(*args)  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function(*args)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    cv2.setNumThreads(2)
    pipeline = Pipeline(PipelineSettings(inference_threads=2), concurrency=1)
    segmenter = pipeline.registry.get("selfie")
    print(f"CPU cores visible: {os.cpu_count()}; OpenCV threads: {cv2.getNumThreads()}")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print(
        f"{'size':>10} {'refine ms':>10} {'fg colour ms':>13} {'alpha off/on ms':>16} "
        f"{'foreground off/on ms':>21}"
    )
    for side in (1000, 4000):
        photo = Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.BICUBIC)
        rgb = np.asarray(photo)
        coarse = matting.upsample_matte(segmenter.predict(photo), photo.size)
        refine = median_ms(matting.refine_matte, rgb, coarse)
        refined = matting.refine_matte(rgb, coarse)
        colour = median_ms(matting.estimate_foreground, rgb, refined)
        buffer = io.BytesIO()
        photo.save(buffer, format="JPEG", quality=92)
        jpeg = buffer.getvalue()
        whole = {
            (kind, refine_on): median_ms(
                pipeline.process, jpeg, OutputSpec(type=kind, refine=refine_on)
            )
            for kind in (OutputType.ALPHA, OutputType.FOREGROUND)
            for refine_on in (False, True)
        }
        alpha_off, alpha_on = whole[OutputType.ALPHA, False], whole[OutputType.ALPHA, True]
        fg_off, fg_on = whole[OutputType.FOREGROUND, False], whole[OutputType.FOREGROUND, True]
        print(
            f"{side}×{side:<5} {refine:>10.1f} {colour:>13.1f} "
            f"{alpha_off:>7.0f}/{alpha_on:<8.0f} {fg_off:>10.0f}/{fg_on:<8.0f}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
