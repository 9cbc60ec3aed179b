"""The url guard end to end, with loopback servers only.

A server with default settings (no allowlist) must refuse every loopback spelling before it
connects: the target server counts connections and must see none. The session server
allowlists 127.0.0.1/32 only; its redirects may lead nowhere else, and to no other scheme.
(Non-loopback ranges are covered without any traffic in test_netguard.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.support import images, servers

SEGMENT = "/human_image_segmentation"


@pytest.fixture(scope="module")
def default_server(artifacts_dir: Path) -> Iterator[str]:
    with servers.humanseg_server({}, artifacts_dir / "server-default.log") as url:
        yield url


@pytest.fixture(scope="module")
def target() -> Iterator[servers.Gate]:
    gate = servers.Gate(images.astronaut_jpeg())
    gate.open()
    yield gate
    gate.close()


LOOPBACK_HOSTS = [
    "127.0.0.1",
    "127.0.0.2",
    "127.0.0.1.",
    "127.1",
    "127.0.1",
    "0x7f000001",
    "0x7f.0.0.1",
    "2130706433",
    "0177.0.0.1",
    "017700000001",
    "localhost",
    "LocalHost.",
    "app.localhost",
    "0",
    "0.0.0.0",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::1%25lo]",
    "[::]",
]


@pytest.mark.slow
def test_default_settings_refuse_every_loopback_spelling_without_connecting(
    default_server: str, target: servers.Gate
) -> None:
    port = target.url.split(":")[2].split("/")[0]
    for host in LOOPBACK_HOSTS:
        response = httpx.post(
            f"{default_server}{SEGMENT}", json={"url": f"http://{host}:{port}/gated"}, timeout=30
        )
        assert response.status_code == 400, (host, response.text)
        assert response.json()["error"]["code"] == "url_forbidden", (host, response.text)
    assert target.hits == 0


def test_the_target_is_reachable_when_allowlisted(client: httpx.Client, target: servers.Gate):
    """The same target through the session server (127.0.0.1/32 allowed): it does answer,
    so the refusals above are the guard's doing."""
    assert client.post(SEGMENT, json={"url": target.url}).status_code == 200
    assert target.hits == 1


def _redirect(file_server: str, to: str, status: int = 302) -> str:
    return f"{file_server}/redirect?status={status}&to={quote(to, safe='')}"


@pytest.mark.parametrize(
    "to",
    [
        "s3://photos/people/astronaut.jpg",  # exists in the test S3 store: must not be read
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.jpg",
        "gopher://127.0.0.1:70/",
    ],
)
def test_redirects_cannot_change_scheme(client: httpx.Client, file_server: str, to: str) -> None:
    response = client.post(SEGMENT, json={"url": _redirect(file_server, to)})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_url"


@pytest.mark.parametrize(
    "to", ["data:image/jpeg;base64,AAAA", "http://[::1", "http://%zz/", "http://a b/", "//", ""]
)
def test_malformed_redirects_fail_cleanly(client: httpx.Client, file_server: str, to: str) -> None:
    response = client.post(SEGMENT, json={"url": _redirect(file_server, to)})
    assert response.status_code in (400, 502), response.text
    assert response.json()["error"]["code"] in ("invalid_url", "fetch_failed", "url_forbidden")


@pytest.mark.parametrize(
    "host", ["127.0.0.2", "0x7f000002", "127.2", "localhost", "[::1]", "[::ffff:127.0.0.2]", "0"]
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_hops_are_checked(
    client: httpx.Client, file_server: str, host: str, status: int
) -> None:
    port = file_server.rsplit(":", 1)[1]
    to = f"http://{host}:{port}/files/astronaut.jpg"
    response = client.post(SEGMENT, json={"url": _redirect(file_server, to, status)})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_forbidden"


def _chain(file_server: str, hops: int) -> str:
    url = f"{file_server}/files/astronaut.jpg"
    for _ in range(hops):
        url = _redirect(file_server, url)
    return url


def test_redirect_limit(client: httpx.Client, file_server: str) -> None:
    """The session server allows 3 redirects (HUMANSEG_URL_MAX_REDIRECTS)."""
    assert client.post(SEGMENT, json={"url": _chain(file_server, 3)}).status_code == 200
    refused = client.post(SEGMENT, json={"url": _chain(file_server, 4)})
    assert refused.status_code == 502
    assert "redirect" in refused.json()["error"]["message"]
