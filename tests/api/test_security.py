"""Attacks on a running ``humanseg serve`` (loopback only), each reproduced, and the server
holding: health answered within a second, honest requests answered, no 5xx, nothing pulled.
"""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from humanseg.settings import PipelineSettings
from tests.support import images, servers

pytestmark = pytest.mark.slow  # every test here starts processes (servers, CLIs or a browser)

ENV = {
    "HUMANSEG_MAX_CONCURRENCY": "2",
    "HUMANSEG_MAX_QUEUE": "8",
    "HUMANSEG_CLIENT_TIMEOUT": "3",
    "HUMANSEG_MAX_BASE64_CHARS": "200000",
    "HUMANSEG_URL_ALLOWLIST": "127.0.0.1/32",
    "HUMANSEG_URL_READ_TIMEOUT": "5",
    "HUMANSEG_URL_TOTAL_TIMEOUT": "3",
    "HUMANSEG_URL_MAX_REDIRECTS": "8",
    "HUMANSEG_LOG_FORMAT": "text",
}
PHOTO = images.astronaut_jpeg()
PHOTO_B64 = base64.b64encode(PHOTO).decode()
SEED = "/human_image_segmentation"


@pytest.fixture(scope="module")
def log_path(artifacts_dir: Path) -> Path:
    return artifacts_dir / "server-security.log"


@pytest.fixture(scope="module")
def url(log_path: Path) -> Iterator[str]:
    with servers.humanseg_server(ENV, log_path) as base:
        yield base


def address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def assert_holding(base: str) -> None:
    """Health within a second, and an honest request answered."""
    started = time.monotonic()
    assert httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    assert time.monotonic() - started < 1
    ok = httpx.post(f"{base}{SEED}", json={"img": PHOTO_B64}, timeout=60)
    assert ok.status_code == 200, ok.text


def raw_exchange(base: str, data: bytes, *, timeout: float = 15) -> tuple[bytes, float]:
    """Send ``data`` on a fresh connection; the answer until the server closes, and when."""
    started = time.monotonic()
    with socket.create_connection(address(base), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - started


def in_threads(count: int, work: Callable[[int], object]) -> tuple[list[threading.Thread], list]:
    results: list = []

    def run(index: int) -> None:
        results.append(work(index))

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


# --- the wire -------------------------------------------------------------------------------


def test_endless_header_is_cut_with_431(url: str) -> None:
    head = b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    answer, _ = raw_exchange(url, head + b"a" * 65536)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"headers_too_large" in answer

    def endless(_index: int) -> int:
        """1 MiB chunks for ever: how many went out before the server cut the connection."""
        sent = 0
        with socket.create_connection(address(url), timeout=10) as sock:
            try:
                sock.sendall(head)
                for _ in range(64):
                    sock.sendall(b"b" * (1 << 20))
                    sent += 1
            except OSError:
                return sent
        return -1  # never cut

    threads, results = in_threads(4, endless)
    assert_holding(url)
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 4 and all(0 <= sent < 64 for sent in results), results
    assert_holding(url)


def test_long_request_line_and_many_headers(url: str) -> None:
    answer, _ = raw_exchange(url, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414") and b"request_line_too_long" in answer
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(300))
    answer, _ = raw_exchange(url, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431") and b"headers_too_large" in answer
    assert_holding(url)


def test_slow_head_and_stalled_body_get_408(url: str) -> None:
    answer, seconds = raw_exchange(url, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert answer.startswith(b"HTTP/1.1 408") and b"client_timeout" in answer
    assert 2.5 < seconds < 6
    head = b"POST /human_image_segmentation HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    stalled = head + b"Content-Length: 100000\r\n\r\n" + b'{"img": "'
    answer, seconds = raw_exchange(url, stalled)
    assert answer.startswith(b"HTTP/1.1 408") and b"client_timeout" in answer
    assert seconds < 6
    assert_holding(url)


def _trickle(base: str, seconds: float) -> bytes:
    """Headers and the start of a body, then one byte per second: until the server cuts."""
    head = b"POST /human_image_segmentation HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    answer = b""
    with socket.create_connection(address(base), timeout=30) as sock:
        sock.sendall(head + b"Content-Length: 100000\r\n\r\n" + b'{"img": "')
        sock.settimeout(1)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                try:
                    sock.sendall(b"A")
                except OSError:
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


def test_trickling_uploads_hold_no_processing_slot(url: str) -> None:
    """Ten uploads sending a byte a second would fill the 2 running and 8 queued slots if
    they were admitted before their bodies ended; others must still be answered."""
    threads, answers = in_threads(10, lambda _i: _trickle(url, 20))
    time.sleep(1.5)  # all ten are uploading now
    assert_holding(url)
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 10
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers[0][:200]
    assert all(b"HUMANSEG_MIN_UPLOAD_RATE" in answer for answer in answers)
    assert_holding(url)


# --- decoding cost ---------------------------------------------------------------------------


def progressive_bomb(side: int = 2048, extra_scans: int = 400) -> bytes:
    """A small progressive JPEG whose last scan is repeated: each repeat is another full
    decoding pass (~4 ms at 2048² here, so 400 of them cost seconds of CPU)."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (120, 130, 140)).save(
        buffer, "JPEG", progressive=True, quality=80
    )
    data = buffer.getvalue()
    last_scan = data[data.rfind(b"\xff\xda") : -2]
    return data[:-2] + last_scan * extra_scans + b"\xff\xd9"


def test_progressive_jpeg_bomb_is_refused_before_decoding(url: str) -> None:
    bomb = base64.b64encode(progressive_bomb()).decode()
    assert len(bomb) < 200_000

    def post(_index: int) -> httpx.Response:
        return httpx.post(f"{url}{SEED}", json={"img": bomb}, timeout=60)

    started = time.monotonic()
    threads, answers = in_threads(2, post)
    assert_holding(url)
    for thread in threads:
        thread.join(timeout=60)
    assert time.monotonic() - started < 10
    assert [answer.status_code for answer in answers] == [422, 422]
    assert all(a.json()["error"]["code"] == "image_too_complex" for a in answers)
    assert "HUMANSEG_MAX_JPEG_SCANS" in answers[0].json()["error"]["message"]


# --- models ----------------------------------------------------------------------------------


def test_callers_cannot_choose_or_pull_models(url: str) -> None:
    folder = PipelineSettings().model_dir
    before = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
    for name in ("isnet", "birefnet-portrait"):
        started = time.monotonic()
        answer = httpx.post(f"{url}{SEED}", json={"img": PHOTO_B64, "model": name}, timeout=60)
        assert time.monotonic() - started < 2
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "model_not_served"
        assert "HUMANSEG_MODELS" in answer.json()["error"]["message"]
    unknown = httpx.post(f"{url}{SEED}", json={"img": PHOTO_B64, "model": "nope"}, timeout=60)
    assert unknown.json()["error"]["code"] == "unknown_model"
    after = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
    assert after == before  # nothing was pulled
    listed = {m["name"]: m["served"] for m in httpx.get(f"{url}/v1/models").json()["models"]}
    assert listed["auto"] is True and listed["isnet"] is False
    assert_holding(url)


# --- fields ----------------------------------------------------------------------------------

BAD_COLOURS = ["hsl(0,100%,200%)", "hsv(0,100%,200%)", "hsb(0,1000%,100%)"]


@pytest.mark.parametrize("colour", BAD_COLOURS)
def test_out_of_range_colours_are_400(url: str, colour: str) -> None:
    body = {"img": PHOTO_B64, "type": "background", "bg_color": colour}
    answer = httpx.post(f"{url}{SEED}", json=body, timeout=60)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_color" and "bg_color" in error["message"]
    files = {"image_file": ("a.jpg", PHOTO)}
    removebg = httpx.post(
        f"{url}/v1.0/removebg", files=files, data={"bg_color": colour}, timeout=60
    )
    assert removebg.status_code == 400, removebg.text
    assert removebg.json()["errors"][0]["code"] == "invalid_color"


def test_deep_json_is_400_everywhere(url: str) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    nested = b'{"size": ' + b"[" * 900 + b"]" * 900 + b"}"
    headers = {"Content-Type": "application/json"}
    for path in (SEED, "/invocations", "/v1.0/removebg"):
        for body in (deep, nested):
            answer = httpx.post(f"{url}{path}", content=body, headers=headers, timeout=60)
            assert answer.status_code == 400, (path, answer.status_code, answer.text[:200])
    assert_holding(url)


LONG_BASE64 = "A" * 200_004  # over the server's HUMANSEG_MAX_BASE64_CHARS


def _remove_bg(base: str, encoding: str, fields: dict[str, str]) -> httpx.Response:
    url = f"{base}/v1.0/removebg"
    if encoding == "multipart":
        files = {name: (None, value) for name, value in fields.items()}
        return httpx.post(url, files=files, timeout=60)
    if encoding == "json":
        return httpx.post(url, json=fields, timeout=60)
    return httpx.post(url, data=fields, timeout=60)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (SEED, {"img": LONG_BASE64}, "img"),
        (SEED, {"img": PHOTO_B64, "type": "background", "bg_img": LONG_BASE64}, "bg_img"),
        (SEED, {"img": PHOTO_B64, "bg_img": LONG_BASE64}, "bg_img"),  # whatever the type
        ("/invocations", {"img": LONG_BASE64}, "img"),
        ("/invocations", {"img": PHOTO_B64, "bg_img": LONG_BASE64}, "bg_img"),
    ],
)
def test_base64_limit_on_every_seed_field(url: str, path: str, body: dict, field: str) -> None:
    answer = httpx.post(f"{url}{path}", json=body, timeout=60)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "base64_too_large"
    assert f"`{field}`" in answer.json()["error"]["message"]


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded", "json"])
def test_base64_limit_on_remove_bg_image_file_b64(url: str, encoding: str) -> None:
    answer = _remove_bg(url, encoding, {"image_file_b64": LONG_BASE64})
    assert answer.status_code == 413, answer.text[:200]
    error = answer.json()["errors"][0]
    assert error["code"] == "base64_too_large" and "`image_file_b64`" in error["title"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"format": "gif"}, "invalid_format"),
        ({"type": "sepia"}, "invalid_type"),
        ({"type": "foreground", "format": "jpeg"}, "invalid_format"),
        ({"type": "id_photo", "id_preset": "a4"}, "invalid_id_preset"),
        ({"type": "crop", "crop_margin": "lots"}, "invalid_margin"),
        ({"bg_color": "no colour"}, "invalid_color"),
        ({"blur_strength": 3}, "invalid_request"),
    ],
)
def test_seed_fields_are_judged_before_any_fetch(url: str, body: dict, code: str) -> None:
    gate = servers.Gate(PHOTO)
    try:
        for fields in ({"url": gate.url}, {"img": PHOTO_B64, "bg_url": gate.url}):
            answer = httpx.post(f"{url}{SEED}", json={**fields, **body}, timeout=60)
            assert answer.status_code == 400 and answer.json()["error"]["code"] == code
        assert gate.hits == 0
    finally:
        gate.close()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"size": "50mb"}, "invalid_parameter"),
        ({"format": "gif"}, "invalid_parameter"),
        ({"position": "left"}, "invalid_parameter"),
        ({"crop_margin": "900px"}, "invalid_margin"),
        ({"crop": "sometimes"}, "invalid_parameter"),
    ],
)
def test_remove_bg_fields_are_judged_before_any_fetch(url: str, fields: dict, code: str) -> None:
    gate = servers.Gate(PHOTO)
    try:
        for source in ({"image_url": gate.url}, {"image_file_b64": PHOTO_B64}):
            answer = _remove_bg(url, "urlencoded", {**source, "bg_image_url": gate.url, **fields})
            assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == code
        assert gate.hits == 0
    finally:
        gate.close()


def test_url_deadline_covers_redirects(url: str, file_server: str) -> None:
    """Five redirects each answered after 1 s: the 3 s total ends the fetch after three."""
    slow = f"{file_server}/slow-redirect?hops=5&seconds=1"
    started = time.monotonic()
    answer = httpx.post(f"{url}{SEED}", json={"url": slow}, timeout=60)
    assert time.monotonic() - started < 4.5
    assert answer.status_code == 504 and answer.json()["error"]["code"] == "fetch_timeout"
    quick = f"{file_server}/slow-redirect?hops=2&seconds=0.1"
    assert httpx.post(f"{url}{SEED}", json={"url": quick}, timeout=60).status_code == 200


def test_s3_urls_with_dot_segments_are_400(url: str) -> None:
    for s3 in ("s3://photos/../secret/a.jpg", "s3://photos/%2e%2e/a.jpg", "s3://p/..%2fa.jpg"):
        answer = httpx.post(f"{url}{SEED}", json={"url": s3}, timeout=60)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_url"


# --- browsers and hosts ----------------------------------------------------------------------


def test_foreign_host_and_cross_origin_posts_are_refused(url: str) -> None:
    foreign = httpx.get(f"{url}/v1/models", headers={"Host": "attacker.invalid"})
    assert foreign.status_code == 400 and foreign.json()["error"]["code"] == "host_not_allowed"
    assert httpx.get(f"{url}/healthz", headers={"Host": "localhost"}).status_code == 200
    body = f'{{"img": "{PHOTO_B64}"}}'
    from_page = httpx.post(
        f"{url}{SEED}",
        content=body,
        headers={"Content-Type": "text/plain", "Origin": "http://attacker.invalid"},
    )
    assert from_page.status_code == 403
    assert from_page.json()["error"]["code"] == "cross_origin_refused"
    form = httpx.post(
        f"{url}/v1.0/removebg",
        data={"image_file_b64": PHOTO_B64},
        headers={"Origin": "null"},
    )
    assert form.status_code == 403
    plain_client = httpx.post(
        f"{url}{SEED}", content=body, headers={"Content-Type": "text/plain"}, timeout=60
    )
    assert plain_client.status_code == 200  # curl and SDKs send no Origin


# --- the log, after everything above ---------------------------------------------------------


def test_log_lines_cannot_be_injected_and_nothing_failed(url: str, log_path: Path) -> None:
    httpx.get(f"{url}/x%0d%0aFAKE%20line%1b[31m")
    time.sleep(0.5)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert not any(line.startswith("FAKE") for line in text.splitlines())
    assert "/x\\r\\nFAKE line\\x1b[31m" in text
    assert "internal_error" not in text and "Traceback" not in text
    assert " 500" not in text
