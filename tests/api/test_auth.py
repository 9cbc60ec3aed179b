"""HUMANSEG_AUTH=api_key on a real server: 401 without a key, 403 with a wrong one, probes open."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from humanseg.api.auth import ApiKeys, presented_keys
from tests.support import images, servers

pytestmark = pytest.mark.slow  # every test here starts processes (servers, CLIs or a browser)

ENV_KEY = "env-key-7f3a9c1e5b"
FILE_KEY = "file-key-2d8e4b6a0c"
SEGMENT = "/human_image_segmentation"


@pytest.fixture(scope="module")
def secured(artifacts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keys_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys_file.write_text(f"# one key per line\n\n{FILE_KEY}\n")
    env = {
        "HUMANSEG_AUTH": "api_key",
        "HUMANSEG_API_KEYS": ENV_KEY,
        "HUMANSEG_API_KEYS_FILE": str(keys_file),
        "HUMANSEG_LOG_LEVEL": "debug",
    }
    with servers.humanseg_server(env, artifacts_dir / "server-auth.log") as url:
        yield url


def photo_body() -> dict[str, str]:
    return {"img": base64.b64encode(images.astronaut_jpeg()).decode()}


def test_missing_key_is_401(secured: str) -> None:
    response = httpx.post(f"{secured}{SEGMENT}", json=photo_body())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong"},
        {"X-Api-Key": "wrong"},
        {"X-Api-Key": ENV_KEY[:-1]},
        {"X-Api-Key": ENV_KEY + "x"},
        {"Authorization": f"Bearer {ENV_KEY.upper()}"},
    ],
)
def test_wrong_key_is_403(secured: str, headers: dict[str, str]) -> None:
    response = httpx.post(f"{secured}{SEGMENT}", json=photo_body(), headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {ENV_KEY}"},
        {"Authorization": f"bearer {FILE_KEY}"},
        {"X-Api-Key": ENV_KEY},
        {"X-Api-Key": FILE_KEY},
    ],
)
def test_valid_key_from_env_or_file(secured: str, headers: dict[str, str]) -> None:
    response = httpx.post(f"{secured}{SEGMENT}", json=photo_body(), headers=headers, timeout=60)
    assert response.status_code == 200, response.text[:200]


@pytest.mark.parametrize("path", [SEGMENT, "/v1.0/removebg", "/invocations"])
def test_one_key_rule_on_every_route(secured: str, path: str) -> None:
    """Bearer works on every route, remove.bg's included; with both headers, both must hold a
    valid key, in either order."""

    body = photo_body()
    if path == "/v1.0/removebg":
        body = {"image_file_b64": body["img"]}

    def post(headers: list[tuple[str, str]]) -> httpx.Response:
        return httpx.post(f"{secured}{path}", json=body, headers=headers, timeout=60)

    assert post([("Authorization", f"Bearer {ENV_KEY}")]).status_code == 200
    assert (
        post([("X-Api-Key", ENV_KEY), ("Authorization", f"Bearer {FILE_KEY}")]).status_code == 200
    )
    for headers in (
        [("Authorization", f"Bearer {ENV_KEY}"), ("X-Api-Key", "wrong")],
        [("X-Api-Key", "wrong"), ("Authorization", f"Bearer {ENV_KEY}")],
        [("X-Api-Key", ENV_KEY), ("Authorization", "Bearer wrong")],
    ):
        answer = post(headers)
        assert answer.status_code == 403, (headers, answer.text[:200])


def test_auth_comes_before_reading_the_body(secured: str) -> None:
    """Headers declaring a 200 MB body, and no body: the answer is 401 at once (not 413)."""
    host, port = secured.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST {SEGMENT} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 200000000\r\n\r\n".encode()
        )
        answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 401"), answer[:200]


def test_probes_and_docs_stay_open_metrics_do_not(secured: str) -> None:
    for path in ("/healthz", "/readyz", "/ping", "/docs", "/openapi.json", "/"):
        assert httpx.get(f"{secured}{path}").status_code == 200, path
    for path in ("/metrics", "/v1/models", "/v1/types"):
        assert httpx.get(f"{secured}{path}").status_code == 401, path
    invocation = httpx.post(f"{secured}/invocations", json=photo_body())
    assert invocation.status_code == 401
    ok = httpx.get(f"{secured}/metrics", headers={"X-Api-Key": ENV_KEY})
    assert ok.status_code == 200
    schema = httpx.get(f"{secured}/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "apiKey"}


def test_keys_are_never_logged(secured: str, artifacts_dir: Path) -> None:
    for headers in ({"X-Api-Key": ENV_KEY}, {"Authorization": f"Bearer {FILE_KEY}"}):
        httpx.post(f"{secured}{SEGMENT}", content=b"{bad json", headers=headers)
    httpx.get(f"{secured}/readyz", headers={"X-Api-Key": ENV_KEY})
    log = (artifacts_dir / "server-auth.log").read_text()
    assert "POST /human_image_segmentation" in log  # the log does record requests
    assert ENV_KEY not in log and FILE_KEY not in log


def test_serve_refuses_api_key_mode_without_keys() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "humanseg", "serve", "--auth", "api_key", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert result.returncode != 0
    assert "HUMANSEG_API_KEYS" in result.stderr and "Traceback" not in result.stderr


def test_key_parsing_and_comparison() -> None:
    keys = ApiKeys(["a-key", " spaced ", ""])
    assert len(keys) == 2 and "a-key" not in repr(keys)
    assert keys.accepts("a-key") and keys.accepts("spaced") and not keys.accepts("a-ke")
    assert presented_keys([(b"authorization", b"Basic abc")]) == []
    assert presented_keys([(b"authorization", b"Bearer   ")]) == []
    both = [(b"x-api-key", b"a"), (b"authorization", b"Bearer b")]
    assert presented_keys(both) == ["a", "b"]
    assert presented_keys([(b"X-API-KEY", b"k")]) == ["k"]
    with pytest.raises(ValueError):
        ApiKeys([" ", ""])
