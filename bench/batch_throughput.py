"""Throughput of `humanseg batch` on this machine: local process pool and Ray, 1 and 2 workers.

    pip install -e '.[dev,ray]'
    python bench/batch_throughput.py                          # 240 photos of 1 MP, alpha
    python bench/batch_throughput.py --images 120 --type foreground --runners local

Each run processes the same folder of JPEGs (the astronaut portrait with noise, see
bench.make_photo) into a fresh output folder through the real job (listing, manifest, atomic
writes). It prints, per runner and worker count: the start-up time (job start to first
result), the steady rate (images/s over the last three quarters of the results) and the whole
job's rate, plus how many manifest lines per second the driver can record.
Everything stays on this machine; the Ray instance is local and bound to loopback.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import make_photo
from humanseg.jobs.cores import worker_settings
from humanseg.jobs.engine import run_job
from humanseg.jobs.locations import open_location
from humanseg.jobs.manifest import Entry, Manifest
from humanseg.jobs.plan import plan
from humanseg.jobs.pool import run_pool
from humanseg.jobs.request import OutputRequest
from humanseg.jobs.sinks import default_manifest
from humanseg.jobs.worker import Task
from humanseg.outputs import ImageFormat
from humanseg.settings import Settings


def timed_job(
    source: Path, destination: Path, output_type: str, runner_name: str, workers: int
) -> dict[str, float]:
    """The job `humanseg batch SOURCE DESTINATION` runs, timed result by result."""
    from humanseg.jobs.ray_data import run_ray

    settings = Settings(ray_num_cpus=1.0)
    sink = open_location(str(destination))
    job = plan([str(source)], sink, settings, ImageFormat.PNG)
    request = OutputRequest(type=None if output_type == "alpha" else output_type)
    if runner_name == "local":
        task = Task(worker_settings(settings, processes=workers), request, sink)
        run = run_pool
    else:
        task = Task(settings, request, sink)
        run = run_ray
    stamps: list[float] = []

    def runner(items):  # type: ignore[no-untyped-def]
        for entry in run(task, items, workers=workers):
            stamps.append(time.perf_counter())
            yield entry

    start = time.perf_counter()
    with Manifest(default_manifest(sink)) as manifest:
        summary = run_job(job, sink, runner, manifest=manifest, progress=False)
    end = time.perf_counter()
    assert summary.failed == 0 and summary.done == len(stamps), summary
    # rate over the last three quarters of results: past start-up, and little biased by Ray
    # returning results a batch at a time
    first = len(stamps) // 4
    steady = (len(stamps) - 1 - first) / (stamps[-1] - stamps[first])
    return {
        "startup_s": stamps[0] - start,
        "steady_ips": steady,
        "overall_ips": len(stamps) / (end - start),
    }


def manifest_rate(folder: Path, lines: int = 2000) -> float:
    with Manifest(folder / "rate.jsonl") as manifest:
        start = time.perf_counter()
        for index in range(lines):
            manifest.record(Entry(f"photos/{index:08d}.jpg", "done", output=f"{index:08d}.png"))
        return lines / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=240)
    parser.add_argument("--megapixels", type=float, default=1.0)
    parser.add_argument("--type", default="alpha", choices=["alpha", "foreground"])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--runners", default="local,ray", help="local and/or ray")
    args = parser.parse_args()

    runners = args.runners.split(",")
    counts = [int(count) for count in args.workers.split(",")]
    if "ray" in runners:
        import ray

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        ray.init(
            num_cpus=max(counts),
            object_store_memory=200 * 1024**2,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            logging_level="WARNING",
            log_to_driver=False,
        )
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.images} JPEGs of {args.megapixels} MP, output {args.type}"
    )
    with tempfile.TemporaryDirectory(prefix="humanseg-bench-") as temp:
        folder = Path(temp)
        source = folder / "in"
        source.mkdir()
        variants = [make_photo(args.megapixels, seed) for seed in range(8)]
        for index in range(args.images):
            (source / f"{index:05d}.jpg").write_bytes(variants[index % len(variants)])
        print(f"{'runner':<8}{'workers':>8}{'start-up s':>12}{'steady img/s':>14}{'job img/s':>11}")
        for runner_name in runners:
            for workers in counts:
                destination = folder / f"out-{runner_name}-{workers}"
                result = timed_job(source, destination, args.type, runner_name, workers)
                print(
                    f"{runner_name:<8}{workers:>8}{result['startup_s']:>12.1f}"
                    f"{result['steady_ips']:>14.1f}{result['overall_ips']:>11.1f}"
                )
        rate = manifest_rate(folder)
    print(f"manifest: {rate:.0f} lines/s")
    if "ray" in runners:
        import ray

        ray.shutdown()


if __name__ == "__main__":
    main()
