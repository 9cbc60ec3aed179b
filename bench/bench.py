"""humanseg benchmark: the raw-model floor, our core, our HTTP server and rembg, in one run.

    pip install -e '.[bench]'
    python bench/bench.py                       # all sizes, both output types
    python bench/bench.py --sizes 1 --repeat 5  # quick look

For each JPEG size (megapixels) and output type it measures, on this machine, in this run:
  floor      decode (Pillow, full size) + the model's own session run + PNG encode, each alone
  core       humanseg.Pipeline.process in-process
  http       POST /human_image_segmentation to `humanseg serve` on loopback
(measured in three turns, so a slow spell of a shared machine slows them alike)
  rembg      rembg.remove() with the same ONNX model file (u2net_custom session), in-process,
             and rembg's own HTTP server (`rembg s`) when it is installed
and prints p50/p95 latency, throughput at concurrency 1, 2 and 8 over HTTP, the server's peak
resident memory, the ratios ours ÷ floor and ours ÷ rembg, and a cost line.
Only loopback traffic; every loop is bounded.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from humanseg import imaging
from humanseg.models.catalog import get_spec
from humanseg.models.store import ModelStore
from humanseg.pipeline import OutputType, Pipeline
from humanseg.settings import PipelineSettings

OUTPUTS = {"alpha": OutputType.ALPHA, "foreground": OutputType.FOREGROUND}
JSON = {"Content-Type": "application/json"}
PATH = "/human_image_segmentation"


# --- inputs ------------------------------------------------------------------------------


def make_photo(megapixels: float, seed: int = 0) -> bytes:
    """A JPEG of a person at the given size: the astronaut portrait plus sensor-like noise,
    so the file compresses like a real photo rather than like a smooth upscale."""
    from skimage import data

    side = round((megapixels * 1e6) ** 0.5)
    width, height = side, side
    photo = Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    noisy = np.asarray(photo, dtype=np.int16) + rng.integers(-6, 7, (height, width, 3), np.int16)
    buffer = io.BytesIO()
    Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# --- timing helpers ----------------------------------------------------------------------


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def timed(function: Callable[[], object], repeat: int, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        function()
    timing = Timing()
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timing.samples.append(time.perf_counter() - start)
    return timing


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# --- the floor ---------------------------------------------------------------------------


class SessionClock:
    """Adds up the time spent inside model sessions (every runtime's ``run``), so the floor
    of a pipeline that runs several models, or one model several times, is their sum."""

    def __init__(self) -> None:
        from humanseg.models import runtimes

        self.total = 0.0
        self._lock = threading.Lock()
        for cls in (runtimes.LiteRTSession, runtimes.OnnxSession, runtimes.OpenVinoSession):
            original = cls.run

            def run(session, tensor, extra=None, *, _original=original):  # type: ignore[no-untyped-def]
                start = time.perf_counter()
                try:
                    return _original(session, tensor, extra)
                finally:
                    with self._lock:
                        self.total += time.perf_counter() - start

            cls.run = run  # type: ignore[method-assign]

    def reset(self) -> float:
        with self._lock:
            total, self.total = self.total, 0.0
        return total


def interleaved_timings(
    pipeline: Pipeline,
    model: str,
    jpeg: bytes,
    output: OutputType,
    repeat: int,
    clock: SessionClock,
    post: Callable[[], object],
    blocks: int = 3,
) -> dict[str, Timing]:
    """The floor's parts (decode, session runs, PNG encode of the right output), the core and
    the HTTP call, ``repeat`` times each, measured in ``blocks`` turns: a slow spell of a shared
    machine then slows the floor and what is compared with it alike. Within a turn each runs
    back to back after one untimed warm-up run, so each finds its caches as a busy server does
    (the server is another process: timed in alternation with the in-process parts, it would
    find its model weights evicted by them and look slower than it is)."""
    settings = pipeline.settings
    encoded = Image.open(io.BytesIO(pipeline.process(jpeg, output, model=model).data))
    encoded.load()

    def decode() -> None:
        image = Image.open(io.BytesIO(jpeg))
        image.load()

    def encode() -> None:
        imaging.encode_png(
            encoded, compress_level=settings.png_compress_level, fast=settings.png_fast
        )

    def core() -> None:
        clock.reset()
        pipeline.process(jpeg, output, model=model)

    timings = {name: Timing() for name in ("decode", "model", "encode", "core", "http")}
    steps = (("decode", decode), ("encode", encode), ("core", core), ("http", post))
    for block in range(blocks):
        runs = repeat // blocks + (block < repeat % blocks)
        for name, function in steps:
            function()  # warm-up
            for _ in range(runs):
                start = time.perf_counter()
                function()
                timings[name].samples.append(time.perf_counter() - start)
                if name == "core":
                    timings["model"].samples.append(clock.reset())  # that run's session time
    return timings


# --- HTTP --------------------------------------------------------------------------------


class Server:
    def __init__(self, command: list[str], port: int, ready_path: str, env: dict[str, str]):
        self.port = port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read().decode()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError("server did not start")

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        extra = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [self.process.pid, *extra]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Poster:
    """POSTs bodies to one path over one kept-alive connection, with the standard library's
    ``http.client``: the thinnest Python client, so that what is timed is the server, not the
    client's own parsing (the clients run on the same cores as the server)."""

    def __init__(self, port: int, path: str) -> None:
        self.path = path
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def __call__(self, body: bytes) -> bytes:
        self.connection.request("POST", self.path, body=body, headers=JSON)
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        return data

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *_: object) -> None:
        self.connection.close()


def http_throughput(
    port: int, path: str, body: bytes, concurrency: int, seconds: float
) -> tuple[float, int]:
    """Images per second with ``concurrency`` clients for about ``seconds`` (bounded)."""
    stop_at = time.monotonic() + seconds
    counts = [0] * concurrency

    def client_loop(index: int) -> None:
        with Poster(port, path) as post:
            while time.monotonic() < stop_at:
                post(body)
                counts[index] += 1

    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client_loop, range(concurrency)))
    elapsed = time.monotonic() - start
    return sum(counts) / elapsed, sum(counts)


# --- rembg -------------------------------------------------------------------------------


def rembg_session(model_path: Path):
    # rembg only loads custom models from below its home folder: point it at our cache
    os.environ["REMBG_HOME"] = os.environ["U2NET_HOME"] = str(model_path.parent)
    try:
        from rembg import new_session
    except ImportError:
        return None
    return new_session("u2net_custom", model_path=str(model_path))


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0.3,1,4,16", help="megapixels, comma-separated")
    parser.add_argument("--types", default="alpha,foreground")
    parser.add_argument("--model", default=None, help="model/pipeline (default: the server's)")
    parser.add_argument("--rembg-model", default="u2netp", help="ONNX model run by both tools")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per measurement")
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--throughput-size", type=float, default=1.0, help="megapixels")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--price", type=float, default=0.04, help="USD per vCPU-hour")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()

    settings = PipelineSettings()
    model = args.model or settings.model
    sizes = [float(s) for s in args.sizes.split(",")]
    types = [OUTPUTS[t] for t in args.types.split(",")]
    clock = SessionClock()
    pipeline = Pipeline(settings)
    pipeline.load(model)
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "model": model,
    }
    print(f"# humanseg benchmark — {results['machine']}, model {model!r}")

    port = free_port()
    server = Server(
        [
            sys.executable,
            "-m",
            "humanseg",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--model",
            model,
        ],
        port,
        "/readyz",
        {"HUMANSEG_LOG_LEVEL": "warning"},
    )
    rows = []
    try:
        for megapixels in sizes:
            jpeg = make_photo(megapixels)
            for output in types:
                repeat = max(3, args.repeat if megapixels <= 4 else args.repeat // 3)
                body = json.dumps(
                    {
                        "img": base64.b64encode(jpeg).decode(),
                        "type": "" if output is OutputType.ALPHA else output.value,
                    }
                ).encode()
                with Poster(port, PATH) as poster:
                    timings = interleaved_timings(
                        pipeline, model, jpeg, output, repeat, clock, partial(poster, body)
                    )
                floor = {name: timings[name] for name in ("decode", "model", "encode")}
                floor_p50 = sum(t.p50 for t in floor.values())
                output_kb = len(pipeline.process(jpeg, output, model=model).data) / 1024
                core, http = timings["core"], timings["http"]
                row = {
                    "mp": megapixels,
                    "type": output.value,
                    "decode_ms": floor["decode"].p50,
                    "model_ms": floor["model"].p50,
                    "encode_ms": floor["encode"].p50,
                    "floor_ms": floor_p50,
                    "core_p50": core.p50,
                    "core_p95": core.p95,
                    "http_p50": http.p50,
                    "http_p95": http.p95,
                    "http_over_floor": http.p50 / floor_p50,
                    "output_kb": output_kb,
                }
                rows.append(row)
                print(
                    f"{megapixels:>5} MP {output.value:<10} floor {floor_p50:7.1f} ms "
                    f"(decode {row['decode_ms']:.1f} + model {row['model_ms']:.1f} + "
                    f"encode {row['encode_ms']:.1f})  core p50 {core.p50:7.1f} p95 {core.p95:7.1f}"
                    f"  http p50 {http.p50:7.1f} p95 {http.p95:7.1f}  http/floor "
                    f"{row['http_over_floor']:.2f}  output {output_kb:.0f} KB",
                    flush=True,
                )
        results["latency"] = rows
        peak = max(peak_rss_mb(pid) for pid in server.pids())
        results["server_peak_rss_mb"] = peak
        print(f"server peak RSS over the latency runs (largest size included): {peak:.0f} MB")

        jpeg = make_photo(args.throughput_size)
        body = json.dumps({"img": base64.b64encode(jpeg).decode()}).encode()
        throughput = {}
        cpu_before = sum(cpu_seconds(pid) for pid in server.pids())
        images_done = 0
        for concurrency in (1, 2, 8):
            rate, count = http_throughput(port, PATH, body, concurrency, args.throughput_seconds)
            throughput[concurrency] = rate
            images_done += count
            print(
                f"throughput at concurrency {concurrency}: {rate:.1f} images/s "
                f"({args.throughput_size} MP, alpha)",
                flush=True,
            )
        cpu_per_image = (sum(cpu_seconds(pid) for pid in server.pids()) - cpu_before) / images_done
        results["throughput"] = throughput
        print(f"throughput c8 / c1: {throughput[8] / throughput[1]:.2f}")
        per_million = cpu_per_image / 3600 * args.price * 1e6
        results["cpu_s_per_image"] = cpu_per_image
        results["usd_per_million"] = per_million
        print(
            f"cost: {cpu_per_image * 1000:.1f} CPU-ms per {args.throughput_size} MP image "
            f"→ ${per_million:.2f} per million images at ${args.price}/vCPU-hour"
        )
    finally:
        server.stop()

    compare_with_rembg(args, settings, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))


def compare_with_rembg(args: argparse.Namespace, settings: PipelineSettings, results: dict) -> None:
    """Same ONNX model file, same RGBA PNG cut-out, in-process: humanseg vs rembg."""
    try:
        spec = get_spec(args.rembg_model)
    except Exception:
        print(f"rembg comparison skipped: model {args.rembg_model!r} is not in the catalog")
        return
    model_path = ModelStore(settings.model_dir, progress=True).ensure(spec)
    session = rembg_session(model_path)
    if session is None:
        print("rembg comparison skipped: `pip install 'rembg[cpu]'` (extra [bench]) to run it")
        return
    from rembg import remove

    pipeline = Pipeline(settings)
    jpeg = make_photo(1.0)
    repeat = max(3, args.repeat // 2)
    ours = timed(lambda: pipeline.process(jpeg, OutputType.FOREGROUND, model=spec.name), repeat)
    theirs = timed(lambda: remove(jpeg, session=session, force_return_bytes=True), repeat)
    raw = timed(
        lambda: session.inner_session.run(
            None,
            session.normalize(
                Image.open(io.BytesIO(jpeg)).convert("RGB"),
                (0.485, 0.456, 0.406),
                (0.229, 0.224, 0.225),
                (320, 320),
            ),
        ),
        repeat,
    )
    ratio = ours.p50 / theirs.p50
    provider = pipeline.registry.get(spec.name).provider
    results["rembg"] = {
        "model": spec.name,
        "ours_provider": provider,
        "ours_p50": ours.p50,
        "rembg_p50": theirs.p50,
        "rembg_raw_session_p50": raw.p50,
        "ratio": ratio,
    }
    print(
        f"same model ({spec.name}), 1 MP JPEG → RGBA PNG, in-process: humanseg p50 "
        f"{ours.p50:.0f} ms ({provider}), rembg p50 {theirs.p50:.0f} ms (its raw session run "
        f"{raw.p50:.0f} ms): ours ÷ rembg = {ratio:.2f}"
    )
    if not provider.startswith("openvino"):
        return
    # the same comparison with onnxruntime, rembg's own engine, for users without OpenVINO
    exact = Pipeline(settings.model_copy(update={"onnx_engine": "onnxruntime"}))
    same_engine = timed(lambda: exact.process(jpeg, OutputType.FOREGROUND, model=spec.name), repeat)
    results["rembg"]["ours_onnxruntime_p50"] = same_engine.p50
    print(
        f"  with HUMANSEG_ONNX_ENGINE=onnxruntime: humanseg p50 {same_engine.p50:.0f} ms: "
        f"ours ÷ rembg = {same_engine.p50 / theirs.p50:.2f}"
    )


if __name__ == "__main__":
    main()
