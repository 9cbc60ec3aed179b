"""Video speed: frames per second per stage (decode, matte, temporal step, compose, encode).

    .venv/bin/python bench/video_speed.py [--frames 90] [--sizes 1280x720,1920x1080] \
        [--types blur,alpha] [--model auto] [--model-every 1,2]

For each size a synthetic clip (a photo of a person filmed by a moving virtual camera, 30 fps,
H.264 in MP4) is written to a temporary folder, then rendered as each type with the temporal
step, exactly as ``humanseg video`` does; each stage's time is summed over the clip (three
threads: decoding with the motion, the model with the temporal blend, composing with encoding).
Real time for a 30 fps clip is an overall rate of at least 30 fps. The CPU time per frame
(all threads) says how many cores real time needs (``cores@30``), a figure that other work
on the machine disturbs far less than the rates do.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from skimage import data

from humanseg.pipeline import Pipeline
from humanseg.schema import parse_output_spec
from humanseg.settings import PipelineSettings, VideoSettings
from humanseg.video.formats import VideoKind
from humanseg.video.render import STAGES, render_video
from humanseg.video.synthetic import CameraPath, camera_clip


def write_clip(path: Path, size: tuple[int, int], frames: int, fps: int = 30) -> None:
    photo = np.asarray(data.astronaut())  # the test suite's photo of a person
    mask = np.zeros(photo.shape[:2], np.uint8)
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=fps, options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for index, frame in enumerate(camera_clip(photo, mask, CameraPath(frames, size))):
            picture = av.VideoFrame.from_ndarray(frame.rgb, format="rgb24")
            picture.pts, picture.time_base = index, Fraction(1, fps)
            output.mux(stream.encode(picture))
        output.mux(stream.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--types", default="blur,alpha")
    parser.add_argument("--model", default="auto")
    parser.add_argument(
        "--model-every",
        default="2",
        help="Comma-separated: the model on every Nth frame (HUMANSEG_VIDEO_MODEL_EVERY), each "
        "measured in turn.",
    )
    args = parser.parse_args()
    schedules = [int(part) for part in args.model_every.split(",")]

    pipeline = Pipeline(PipelineSettings())
    pipeline.load(args.model)
    print(f"model {args.model}, {os.cpu_count()} CPUs, {args.frames} frames per clip")
    header = " ".join(f"{stage:>9}" for stage in STAGES)
    print(
        f"{'clip':<16} {'type':<6} {'every':>5} {header} {'overall':>9} {'CPU ms':>8}"
        f" {'cores@30':>10}"
        "  (frames per second; CPU time per frame, all threads; cores busy for 30 fps)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for text in args.sizes.split(","):
            width, height = (int(part) for part in text.split("x"))
            clip = Path(folder) / f"{width}x{height}.mp4"
            write_clip(clip, (width, height), args.frames)
            for name, every in itertools.product(args.types.split(","), schedules):
                kind = VideoKind(name)
                spec = parse_output_spec(kind.output_type.value)
                video = VideoSettings(video_model_every=every)
                started, cpu_started = time.perf_counter(), time.process_time()
                result = render_video(
                    pipeline,
                    clip,
                    Path(folder) / f"out-{name}",
                    kind,
                    spec,
                    video=video,
                    model=args.model,
                )
                overall = result.frames / (time.perf_counter() - started)
                cpu_ms = (time.process_time() - cpu_started) / result.frames * 1000
                rates = " ".join(
                    f"{result.frames / max(result.times.seconds[stage], 1e-9):>9.1f}"
                    for stage in STAGES
                )
                print(
                    f"{text:<16} {name:<6} {every:>5} {rates} {overall:>9.1f} {cpu_ms:>8.1f}"
                    f" {cpu_ms * 30 / 1000:>10.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
