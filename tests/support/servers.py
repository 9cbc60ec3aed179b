"""Real servers on loopback for the tests: an HTTP file server, moto's S3 server, humanseg."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check, *, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            if check():
                return
        except Exception as exc:
            last_error = exc
        time.sleep(0.2)
    raise TimeoutError(f"{what} not up after {timeout} s (last error: {last_error})")


class _Handler(BaseHTTPRequestHandler):
    """Serves registered files and a few misbehaving paths for the url tests."""

    files: dict[str, bytes] = {}

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        if path.startswith("/files/") and path[len("/files/") :] in self.files:
            body = self.files[path[len("/files/") :]]
            self._send(200, body, "application/octet-stream")
        elif path == "/redirect":
            self.send_response(int(query.get("status", "302")))
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/slow-redirect":  # waits, then redirects to itself `hops` more times
            time.sleep(float(query.get("seconds", "1")))
            hops = int(query.get("hops", "1"))
            seconds = query.get("seconds", "1")
            self.send_response(302)
            target = f"/slow-redirect?hops={hops - 1}&seconds={seconds}"
            self.send_header("Location", target if hops > 1 else "/files/astronaut.jpg")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/redirect-loop":
            self.send_response(302)
            self.send_header("Location", "/redirect-loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/status":
            self._send(int(query["code"]), b"nope", "text/plain")
        elif path == "/slow-headers":
            time.sleep(float(query.get("seconds", "5")))
            self._send(200, b"late", "text/plain")
        elif path == "/trickle":  # a byte every 0.4 s: never idle long enough for a read timeout
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.4)
        elif path == "/endless":  # chunked, no length, never ends on its own
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\xff" * 65536
            try:
                for _ in range(2000):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        elif path == "/declared-huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10**10))
            self.end_headers()
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early (timeouts, size caps) are what the tests provoke


@contextmanager
def file_server(files: dict[str, bytes]) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"files": files})  # shared: tests may add files
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def moto_s3_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: httpx.get(f"{url}/moto-api/", timeout=1).status_code < 500,
            timeout=60,
            what="moto S3 server",
            process=process,
        )
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def humanseg_server(env: dict[str, str], log_path: Path, args: list[str] = ()) -> Iterator[str]:
    """``humanseg serve`` in its own process, the way a user starts it."""
    with humanseg_process(env, log_path, args) as (url, _process):
        yield url


class Gate:
    """A loopback HTTP server whose ``/gated`` answer (``body``) waits until ``open()``."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.event = threading.Event()
        self.hits = 0
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                gate.hits += 1
                gate.event.wait(timeout=120)
                self.send_response(200)
                self.send_header("Content-Length", str(len(gate.body)))
                self.end_headers()
                self.wfile.write(gate.body)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gated"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def open(self) -> None:
        self.event.set()

    def close(self) -> None:
        self.event.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def humanseg_process(
    env: dict[str, str], log_path: Path, args: list[str] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``humanseg serve`` in its own process; yields its URL and the process (to signal it)."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "humanseg",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *args,
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(
                lambda: httpx.get(f"{url}/readyz", timeout=2).status_code == 200,
                timeout=300,
                what=f"humanseg server (log: {log_path})",
                process=process,
            )
            yield url, process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def wait_for_workers(url: str, *, timeout: float = 120, in_a_row: int = 10) -> None:
    """Until ``in_a_row`` fresh connections find the server ready: with several worker
    processes each may answer, and the first ready one does not make the others so."""
    deadline = time.monotonic() + timeout
    ready = 0
    while ready < in_a_row:
        assert time.monotonic() < deadline, "a worker never became ready"
        ok = httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        ready = ready + 1 if ok else 0
        time.sleep(0 if ok else 0.5)


def metric(base_url: str, name: str, headers: dict[str, str] | None = None) -> float:
    """The value of one unlabelled (or the sum of a labelled) metric from ``/metrics``."""
    text = httpx.get(f"{base_url}/metrics", headers=headers, timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total
