"""Bounded work, bounded queue, time budget and graceful shutdown, on real server processes.

The image behind ``/gated`` is only sent when the test opens the gate, so a request can be
held in flight for as long as the test needs: nothing here depends on how fast anything runs.
"""

from __future__ import annotations

import base64
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support import images, servers

pytestmark = pytest.mark.slow  # every test here starts processes (servers, CLIs or a browser)

LIMITS = {
    "HUMANSEG_MAX_CONCURRENCY": "1",
    "HUMANSEG_MAX_QUEUE": "1",
    "HUMANSEG_REQUEST_TIMEOUT": "3",
    "HUMANSEG_MAX_IMAGE_PIXELS": "1000000",
    "HUMANSEG_URL_ALLOWLIST": "127.0.0.1/32",
    "HUMANSEG_URL_READ_TIMEOUT": "60",
    "HUMANSEG_URL_TOTAL_TIMEOUT": "60",
}


@pytest.fixture()
def gate() -> Iterator[servers.Gate]:
    gate = servers.Gate(images.astronaut_jpeg())
    yield gate
    gate.close()


@pytest.fixture(scope="module")
def small_server(artifacts_dir: Path) -> Iterator[str]:
    with servers.humanseg_server(LIMITS, artifacts_dir / "server-small.log") as url:
        yield url


def _post_in_thread(url: str, body: dict, results: list[httpx.Response]) -> threading.Thread:
    def call() -> None:
        results.append(httpx.post(f"{url}/human_image_segmentation", json=body, timeout=120))

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def _wait_for(url: str, name: str, value: float) -> None:
    servers.wait_until(
        lambda: servers.metric(url, name) == value, timeout=30, what=f"{name} == {value}"
    )


def test_full_server_refuses_at_once_and_stays_responsive(
    small_server: str, gate: servers.Gate
) -> None:
    url = small_server
    held: list[httpx.Response] = []
    first = _post_in_thread(url, {"url": gate.url}, held)
    _wait_for(url, "humanseg_in_flight", 1)
    second = _post_in_thread(url, {"url": gate.url}, held)
    _wait_for(url, "humanseg_queue_depth", 1)

    # one running, one waiting: the next ones are refused while the gate is still shut
    for _ in range(3):
        refused = httpx.post(f"{url}/human_image_segmentation", json={"url": gate.url})
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "overloaded"
        assert int(refused.headers["Retry-After"]) >= 1
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert httpx.get(f"{url}/readyz").status_code == 200
    assert not gate.event.is_set() and gate.hits == 1

    # the time budget answers both held requests, but the running fetch still occupies its
    # worker, so the server stays full until that work has really ended
    first.join(timeout=60)
    second.join(timeout=60)
    assert [r.json()["error"]["code"] for r in held] == ["request_timeout"] * 2
    assert all(r.status_code == 504 for r in held)
    assert servers.metric(url, "humanseg_in_flight") == 1
    still_full = httpx.post(f"{url}/human_image_segmentation", json={"url": gate.url})
    assert still_full.status_code == 503

    gate.open()
    _wait_for(url, "humanseg_in_flight", 0)
    _wait_for(url, "humanseg_queue_depth", 0)
    assert gate.hits == 1  # the queued request that timed out never started its fetch
    ok = httpx.post(
        f"{url}/human_image_segmentation",
        json={"img": base64.b64encode(images.astronaut_jpeg()).decode()},
        timeout=60,
    )
    assert ok.status_code == 200


def test_healthz_answers_while_workers_run_cpu_work(small_server: str) -> None:
    url = small_server
    photo = base64.b64encode(images.encode(images.astronaut().resize((1000, 1000)), "PNG"))
    body = {"img": photo.decode(), "type": "foreground"}
    results: list[httpx.Response] = []
    threads = [_post_in_thread(url, body, results) for _ in range(6)]
    for _ in range(20):
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses


def test_pixel_limit_is_its_own_setting(small_server: str) -> None:
    """1100×1000 is under the side limit (4096) but over HUMANSEG_MAX_IMAGE_PIXELS=1000000."""
    png = images.encode(Image.new("RGB", (1100, 1000)), "PNG")
    response = httpx.post(
        f"{small_server}/human_image_segmentation",
        json={"img": base64.b64encode(png).decode()},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "image_too_large"
    assert "1000000" in response.json()["error"]["message"]


def test_sigterm_finishes_in_flight_requests_and_refuses_new_ones(
    artifacts_dir: Path, gate: servers.Gate
) -> None:
    env = {**LIMITS, "HUMANSEG_REQUEST_TIMEOUT": "60"}
    with servers.humanseg_process(env, artifacts_dir / "server-sigterm.log") as (url, process):
        held: list[httpx.Response] = []
        thread = _post_in_thread(url, {"url": gate.url}, held)
        _wait_for(url, "humanseg_in_flight", 1)

        process.send_signal(signal.SIGTERM)

        def refused() -> bool:
            try:
                httpx.get(f"{url}/healthz", timeout=2)
            except httpx.ConnectError:
                return True
            return False

        servers.wait_until(refused, timeout=30, what="listening socket closed")
        assert process.poll() is None and not held  # still running the held request
        gate.open()
        thread.join(timeout=60)
        assert held and held[0].status_code == 200, held
        # uvicorn re-raises the signal after its clean shutdown, so the status is "killed by
        # SIGTERM"; the log proves the shutdown ran to its end
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    log = (artifacts_dir / "server-sigterm.log").read_text()
    assert "Waiting for connections to close" in log or "Shutting down" in log
    assert "Finished server process" in log
    assert "Traceback" not in log


def test_slow_upload_runs_out_of_time_budget(small_server: str) -> None:
    """A client that declares a body and then stalls (slowloris) is answered 504 and let go."""
    host, port = small_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        head = "POST /human_image_segmentation HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"
        sock.sendall(head.encode() + b'{"img": "')
        answer = ""
        while "}}" not in answer:  # until the whole JSON error has arrived
            chunk = sock.recv(65536).decode("latin-1")
            if not chunk:
                break
            answer += chunk
    assert answer.startswith("HTTP/1.1 504"), answer[:300]
    assert "request_timeout" in answer
    assert servers.metric(small_server, "humanseg_queue_depth") == 0
