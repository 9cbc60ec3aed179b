"""Every row of the error contract (SPEC §2), provoked against the real server.

Each failure must be JSON `{"error": {"code", "message"}}` with its status, and the server
must go on serving afterwards.
"""

from __future__ import annotations

import base64
import io
import socket

import httpx
import pytest
from PIL import Image

from tests.support import images
from tests.support.s3 import BUCKET


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert message and "Traceback" not in message
    return body["error"]


def post(client: httpx.Client, body: object) -> httpx.Response:
    return client.post("/human_image_segmentation", json=body)


@pytest.fixture(autouse=True)
def server_still_serves(client: httpx.Client):
    yield
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


# --- 400: the request itself -------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"img"', b"null"])
def test_invalid_json(client: httpx.Client, body: bytes) -> None:
    response = client.post(
        "/human_image_segmentation", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "body", [{"img": 12}, {"url": ["a"]}, {"img": None, "url": {"x": 1}}, {"type": 5, "img": "x"}]
)
def test_wrong_field_types(client: httpx.Client, body: dict) -> None:
    assert_error(post(client, body), 400, "invalid_request")


@pytest.mark.parametrize(
    "body", [{}, {"type": "foreground"}, {"img": ""}, {"img": None, "url": ""}]
)
def test_missing_input(client: httpx.Client, body: dict) -> None:
    assert_error(post(client, body), 400, "missing_input")


def test_both_url_and_img(client: httpx.Client, file_server: str) -> None:
    body = {"img": b64(images.astronaut_jpeg()), "url": f"{file_server}/files/astronaut.jpg"}
    assert_error(post(client, body), 400, "conflicting_input")


@pytest.mark.parametrize(
    "text", ["not base64!!", "abc$def", "A", "====", "\u00e9\u00e9\u00e9\u00e9"]
)
def test_bad_base64(client: httpx.Client, text: str) -> None:
    assert_error(post(client, {"img": text}), 400, "invalid_base64")


@pytest.mark.parametrize("kind", ["Foreground", "alpha_matte", "background!", "x" * 500])
def test_unknown_type(client: httpx.Client, kind: str) -> None:
    body = {"img": b64(images.astronaut_jpeg()), "type": kind}
    assert_error(post(client, body), 400, "invalid_type")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "gopher://x/",
        "not a url",
        "http://",
        "s3://",
        "s3://bucket-only",
        "http://[::1/",
    ],
)
def test_invalid_url(client: httpx.Client, url: str) -> None:
    assert_error(post(client, {"url": url}), 400, "invalid_url")


def test_forbidden_urls_on_loopback(client: httpx.Client, file_server: str) -> None:
    """The test server allowlists 127.0.0.1 only; every other loopback spelling is refused."""
    port = file_server.rsplit(":", 1)[1]
    spellings = [
        "127.0.0.2",
        "127.2",
        "0x7f000002",
        "0177.0.0.2",
        "2130706434",
        "[::1]",
        "[::ffff:127.0.0.2]",
        "[::ffff:7f00:2]",
        "0.0.0.0",
        "0",
    ]
    for host in spellings:
        response = post(client, {"url": f"http://{host}:{port}/files/astronaut.jpg"})
        assert response.status_code == 400, host
        error = assert_error(response, 400, "url_forbidden")
        assert "HUMANSEG_URL_ALLOWLIST" in error["message"]


def test_redirect_to_forbidden_address_is_refused(client: httpx.Client, file_server: str) -> None:
    port = file_server.rsplit(":", 1)[1]
    target = f"http://127.0.0.2:{port}/files/astronaut.jpg"
    response = post(client, {"url": f"{file_server}/redirect?to={target}"})
    assert_error(response, 400, "url_forbidden")


# --- 404 / 405 ---------------------------------------------------------------------------


def test_unknown_path_and_method(client: httpx.Client) -> None:
    assert_error(client.get("/no/such/path"), 404, "not_found")
    assert_error(client.get("/human_image_segmentation"), 405, "method_not_allowed")


# --- 413: too large ----------------------------------------------------------------------


def test_body_too_large(client: httpx.Client) -> None:
    body = b'{"img": "' + b"A" * (7 * 1024 * 1024) + b'"}'  # the test server caps bodies at 6 MiB
    response = client.post("/human_image_segmentation", content=body)
    assert_error(response, 413, "request_too_large")


def test_chunked_body_too_large(client: httpx.Client) -> None:
    """No Content-Length: the limit is enforced while the body streams in."""

    def chunks():
        yield b'{"img": "'
        for _ in range(8):
            yield b"A" * (1024 * 1024)
        yield b'"}'

    response = client.post("/human_image_segmentation", content=chunks())
    assert_error(response, 413, "request_too_large")


def test_base64_too_long(client: httpx.Client) -> None:
    """5 MiB of base64 fits the 6 MiB body limit but not the 4 MiB `img` limit."""
    response = post(client, {"img": "A" * (5 * 1024 * 1024)})
    error = assert_error(response, 413, "base64_too_large")
    assert "HUMANSEG_MAX_BASE64_CHARS" in error["message"]


@pytest.mark.parametrize("size", [(4097, 8), (8, 4097), (5000, 5000)])
def test_image_too_large(client: httpx.Client, size: tuple[int, int]) -> None:
    png = images.encode(Image.new("L", size), "PNG")
    error = assert_error(post(client, {"img": b64(png)}), 413, "image_too_large")
    assert "4096" in error["message"]


def test_exif_rotation_counts_for_the_size_limit(client: httpx.Client) -> None:
    """A 4097×8 image stored as 8×4097 with orientation 6 is still too large (and 4096 is fine)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    ok = images.encode(Image.new("RGB", (8, 4096)), "JPEG", exif=exif.tobytes())
    assert post(client, {"img": b64(ok)}).status_code == 200


def test_decompression_bomb_refused_before_decoding(client: httpx.Client) -> None:
    """A tiny PNG that declares 30000×30000 pixels: refused from its header."""
    bomb = _png_declaring(30000, 30000)
    assert len(bomb) < 200
    assert_error(post(client, {"img": b64(bomb)}), 413, "image_too_large")


def test_url_download_too_large(client: httpx.Client, file_server: str) -> None:
    assert_error(post(client, {"url": f"{file_server}/files/big.jpg"}), 413, "download_too_large")
    assert_error(post(client, {"url": f"{file_server}/declared-huge"}), 413, "download_too_large")
    assert_error(post(client, {"url": f"{file_server}/endless"}), 413, "download_too_large")


# --- 415 / 422: not an image we take ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "TIFF", "ICO"])
def test_other_image_formats(client: httpx.Client, fmt: str) -> None:
    data = images.encode(images.astronaut().resize((64, 64)), fmt)
    error = assert_error(post(client, {"img": b64(data)}), 415, "unsupported_format")
    assert "JPEG, PNG or BMP" in error["message"]


def test_text_is_not_an_image(client: httpx.Client, file_server: str) -> None:
    assert_error(
        post(client, {"img": b64(b"hello world, not an image")}), 415, "unsupported_format"
    )
    assert_error(
        post(client, {"url": f"{file_server}/files/not-an-image.txt"}), 415, "unsupported_format"
    )
    assert_error(post(client, {"url": f"s3://{BUCKET}/text.txt"}), 415, "unsupported_format")


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0" + b"\x00" * 100,  # JPEG magic, garbage after
        images.astronaut_jpeg()[:2000],  # truncated JPEG
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,  # PNG magic, no IHDR
        images.encode(images.astronaut(), "PNG")[:5000],  # truncated PNG
        b"BM" + b"\x00" * 60,  # BMP magic, bad header
    ],
    ids=["jpeg-garbage", "jpeg-truncated", "png-no-header", "png-truncated", "bmp-garbage"],
)
def test_corrupt_images(client: httpx.Client, data: bytes) -> None:
    assert_error(post(client, {"img": b64(data)}), 422, "invalid_image")


# --- 502 / 504: the remote failed ---------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500, 403])
def test_remote_http_error(client: httpx.Client, file_server: str, status: int) -> None:
    error = assert_error(
        post(client, {"url": f"{file_server}/status?code={status}"}), 502, "fetch_failed"
    )
    assert str(status) in error["message"]


def test_redirect_loop(client: httpx.Client, file_server: str) -> None:
    error = assert_error(post(client, {"url": f"{file_server}/redirect-loop"}), 502, "fetch_failed")
    assert "redirect" in error["message"]


def test_connection_refused(client: httpx.Client) -> None:
    with socket.socket() as sock:  # a port that was just free: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert_error(post(client, {"url": f"http://127.0.0.1:{port}/x.jpg"}), 502, "fetch_failed")


def test_missing_s3_object_and_bucket(client: httpx.Client) -> None:
    assert_error(post(client, {"url": f"s3://{BUCKET}/no/such.jpg"}), 502, "fetch_failed")
    assert_error(post(client, {"url": "s3://no-such-bucket/a.jpg"}), 502, "fetch_failed")


def test_remote_read_timeout(client: httpx.Client, file_server: str) -> None:
    response = post(client, {"url": f"{file_server}/slow-headers?seconds=4"})
    assert_error(response, 504, "fetch_timeout")


def test_remote_total_timeout(client: httpx.Client, file_server: str) -> None:
    """A server that trickles bytes never trips the read timeout; the total budget stops it."""
    assert_error(post(client, {"url": f"{file_server}/trickle"}), 504, "fetch_timeout")


# --- helpers ----------------------------------------------------------------------------


def _png_declaring(width: int, height: int) -> bytes:
    return images.raw_png(width, height, bit_depth=8, color_type=0, pixels=b"\0" * 64)


def test_helper_png_is_real() -> None:
    assert Image.open(io.BytesIO(_png_declaring(3, 2))).size == (3, 2)
