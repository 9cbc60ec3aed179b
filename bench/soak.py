"""Load and soak test: a real ``humanseg serve`` on loopback under a steady mix of requests.

Concurrency 32 for 10 minutes by default, a mix of valid and invalid requests (inline images,
url inputs from a loopback file server, bad JSON, bad base64, corrupt and unsupported images,
forbidden urls, oversized headers). It stops by itself and exits non-zero unless:

* no answer is a 5xx other than 503 (``overloaded``, the backpressure answer),
* the server's resident memory grows by less than 10 % between the end of the warm-up and the
  end of the run,
* the server is still up and ``/healthz`` answered every probe.

Loopback only: every address it sends to, or makes the server fetch from, is 127.0.0.1.

    .venv/bin/python bench/soak.py                      # the full run (10 min)
    .venv/bin/python bench/soak.py --duration 60 --warmup 15
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import psutil
from PIL import Image

SEGMENT = "/human_image_segmentation"


def _photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A synthetic photo-like image: smooth gradients plus noise (no files needed)."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], -1)
    noisy = base + rng.normal(0, 12, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _huge_png_header() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", 50000, 50000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def request_mix(files_url: str) -> list[tuple[str, int, bytes]]:
    """(name, weight, body) of every kind of request the soak sends."""
    jpeg = _encode(_photo((640, 480), 1), "JPEG", quality=88)
    png = _encode(_photo((1024, 768), 2), "PNG")
    gif = _encode(_photo((64, 64), 3), "GIF")
    mix = [
        ("matte_jpeg_640", 30, {"img": _b64(jpeg)}),
        ("cutout_png_1024", 8, {"img": _b64(png), "type": "foreground"}),
        ("url_jpeg", 10, {"url": f"{files_url}/photo.jpg"}),
        ("url_forbidden", 5, {"url": "http://127.0.0.2:9/x.jpg"}),
        ("bad_base64", 8, {"img": "not base64 at all!"}),
        ("corrupt_jpeg", 8, {"img": _b64(jpeg[:2000])}),
        ("unsupported_gif", 5, {"img": _b64(gif)}),
        ("huge_header", 5, {"img": _b64(_huge_png_header())}),
        ("missing_input", 5, {"type": "foreground"}),
        ("bad_type", 3, {"img": _b64(jpeg), "type": "sepia"}),
    ]
    requests = [(name, weight, json.dumps(body).encode()) for name, weight, body in mix]
    requests.append(("invalid_json", 10, b'{"img": '))
    return requests


def start_file_server(files: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = files.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: argparse.Namespace, log_path: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        **os.environ,
        "HUMANSEG_URL_ALLOWLIST": "127.0.0.1/32",
        "HUMANSEG_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "humanseg", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), *args.server_arg]
    log = log_path.open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early; see {log_path}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return url, process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit("server not ready after 300 s")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values), q))


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.codes: Counter[str] = Counter()
        self.failures: list[str] = []

    def add(self, name: str, status: int, seconds: float, code: str) -> None:
        self.samples[name].append((status, seconds))
        if code:
            self.codes[code] += 1


async def client_loop(
    client: httpx.AsyncClient,
    mix: list[tuple[str, int, bytes]],
    deadline: float,
    record: Recorder,
    seed: int,
) -> None:
    rng = random.Random(seed)
    names = [m[0] for m in mix]
    weights = [m[1] for m in mix]
    bodies = {m[0]: m[2] for m in mix}
    while time.monotonic() < deadline:
        name = rng.choices(names, weights)[0]
        started = time.perf_counter()
        try:
            response = await client.post(SEGMENT, content=bodies[name])
        except httpx.HTTPError as exc:
            record.failures.append(f"{name}: {type(exc).__name__}: {exc!r}")
            await asyncio.sleep(0.5)
            continue
        seconds = time.perf_counter() - started
        code = ""
        if response.status_code >= 400:
            try:
                code = response.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "(not json)"
        record.add(name, response.status_code, seconds, code)
        if response.status_code == 503:  # back off a little, as a polite client would
            await asyncio.sleep(rng.uniform(0.05, 0.25))


async def health_probe(url: str, deadline: float, samples: list[float], misses: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                response = await client.get("/healthz")
                if response.status_code != 200:
                    misses.append(f"status {response.status_code}")
                samples.append(time.perf_counter() - started)
            except httpx.HTTPError as exc:
                misses.append(type(exc).__name__)
            await asyncio.sleep(1.0)


async def memory_sampler(
    process: psutil.Process, deadline: float, samples: list[tuple[float, int]]
) -> None:
    start = time.monotonic()
    while time.monotonic() < deadline:
        try:
            rss = process.memory_info().rss + sum(
                child.memory_info().rss for child in process.children(recursive=True)
            )
        except psutil.Error:
            return
        samples.append((time.monotonic() - start, rss))
        await asyncio.sleep(5.0)


async def run(args: argparse.Namespace, url: str, files_url: str, pid: int) -> dict[str, object]:
    mix = request_mix(files_url)
    record = Recorder()
    health: list[float] = []
    health_misses: list[str] = []
    memory: list[tuple[float, int]] = []
    deadline = time.monotonic() + args.duration
    n = args.concurrency
    # idle connections are dropped before the server's 5 s keep-alive timeout could close
    # them under a request in flight (a client-side race, not a server failure)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        await asyncio.gather(
            *(client_loop(client, mix, deadline, record, seed) for seed in range(args.concurrency)),
            health_probe(url, deadline, health, health_misses),
            memory_sampler(psutil.Process(pid), deadline, memory),
        )
    return summarise(args, record, health, health_misses, memory)


def summarise(
    args: argparse.Namespace,
    record: Recorder,
    health: list[float],
    health_misses: list[str],
    memory: list[tuple[float, int]],
) -> dict[str, object]:
    all_statuses = Counter(status for samples in record.samples.values() for status, _ in samples)
    every = [seconds for samples in record.samples.values() for _, seconds in samples]
    answered = [
        seconds for samples in record.samples.values() for code, seconds in samples if code != 503
    ]
    per_kind = {}
    for name, samples in sorted(record.samples.items()):
        values = [seconds for _, seconds in samples]
        per_kind[name] = {
            "count": len(samples),
            "statuses": dict(sorted(Counter(status for status, _ in samples).items())),
            "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p99_ms": round(percentile(values, 99) * 1000, 1),
        }
    # medians of the first and the last few samples after warm-up, so one GC pause or one
    # burst of large images does not decide the verdict
    after_warmup = [rss for t, rss in memory if t >= args.warmup]
    window = max(1, min(6, len(after_warmup) // 4))
    baseline = statistics.median(after_warmup[:window]) if after_warmup else None
    final = statistics.median(after_warmup[-window:]) if after_warmup else None
    growth = (final - baseline) / baseline if baseline and final else None
    bad_5xx = {s: n for s, n in all_statuses.items() if s >= 500 and s != 503}
    total = sum(all_statuses.values())
    summary = {
        "duration_s": args.duration,
        "concurrency": args.concurrency,
        "server_args": args.server_arg,
        "cpus": os.cpu_count(),
        "requests": total,
        "requests_per_s": round(total / args.duration, 1),
        "statuses": dict(sorted(all_statuses.items())),
        "error_codes": dict(record.codes.most_common()),
        "latency_all_ms": {
            "p50": round(percentile(every, 50) * 1000, 1),
            "p99": round(percentile(every, 99) * 1000, 1),
        },
        "latency_not_503_ms": {
            "p50": round(percentile(answered, 50) * 1000, 1),
            "p99": round(percentile(answered, 99) * 1000, 1),
        },
        "per_kind": per_kind,
        "healthz_ms": {
            "probes": len(health),
            "p50": round(percentile(health, 50) * 1000, 1),
            "p99": round(percentile(health, 99) * 1000, 1),
            "max": round(max(health, default=float("nan")) * 1000, 1),
            "misses": health_misses[:10],
        },
        "rss_mb": {
            "start": round(memory[0][1] / 2**20, 1) if memory else None,
            "after_warmup": round(baseline / 2**20, 1) if baseline else None,
            "max": round(max(r for _, r in memory) / 2**20, 1) if memory else None,
            "end": round(final / 2**20, 1) if final else None,
            "growth_after_warmup_pct": round(growth * 100, 2) if growth is not None else None,
            "every_30s": [round(rss / 2**20, 1) for t, rss in memory[::6]],
        },
        "client_failures": len(record.failures),
        "client_failure_examples": record.failures[:5],
        "bad_5xx": bad_5xx,
    }
    summary["ok"] = bool(
        not bad_5xx
        and growth is not None
        and growth < 0.10
        and not health_misses
        and not record.failures
    )
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before RSS baseline")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra `humanseg serve` argument (repeatable), e.g. --server-arg=--max-queue=8",
    )
    parser.add_argument("--out", type=Path, help="also write the JSON summary here")
    args = parser.parse_args()
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")

    jpeg = _encode(_photo((800, 600), 7), "JPEG", quality=90)
    files = start_file_server({"photo.jpg": jpeg})
    files_url = f"http://127.0.0.1:{files.server_address[1]}"
    log_path = Path(tempfile.gettempdir()) / "humanseg-soak-server.log"
    # a SIGTERM (e.g. from `timeout`) unwinds through the finally below, stopping the server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    url, process = start_server(args, log_path)
    print(f"soak: {args.concurrency} clients, {args.duration:g} s, {url}", file=sys.stderr)
    try:
        summary = asyncio.run(run(args, url, files_url, process.pid))
        summary["server_alive"] = process.poll() is None
        summary["ok"] = bool(summary["ok"] and summary["server_alive"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        files.shutdown()
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
