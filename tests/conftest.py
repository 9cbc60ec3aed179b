from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from tests.support import images, servers
from tests.support.s3 import AWS_ENV, BUCKET, boto_kwargs

# Fixtures that start a process (humanseg serve, moto's S3 server, Ray): a test using one is
# in the slow lane. Tests that start a process themselves carry ``@pytest.mark.slow``.
PROCESS_FIXTURES = frozenset({"server", "client", "s3_server", "local_ray"})

# What the shared test server's operator chose to run (pulled when it starts).
SERVED_MODELS = "auto,balanced,quality,selfie,selfie-landscape,modnet,u2netp"

# Small limits so every limit can be provoked cheaply.
SERVER_LIMITS = {
    "HUMANSEG_MAX_BODY_BYTES": str(6 * 1024 * 1024),
    "HUMANSEG_MAX_BASE64_CHARS": str(4 * 1024 * 1024),
    "HUMANSEG_MAX_DOWNLOAD_BYTES": str(2 * 1024 * 1024),
    "HUMANSEG_URL_READ_TIMEOUT": "1.5",
    "HUMANSEG_URL_TOTAL_TIMEOUT": "4",
    "HUMANSEG_URL_MAX_REDIRECTS": "3",
}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def file_server() -> Iterator[str]:
    files = {
        "astronaut.jpg": images.astronaut_jpeg(),
        "astronaut.png": images.encode(images.astronaut(), "PNG"),
        "not-an-image.txt": b"hello, this is text\n",
        "big.jpg": images.astronaut_jpeg() + b"\0" * (3 * 1024 * 1024),
    }
    with servers.file_server(files) as url:
        yield url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    with servers.moto_s3_server() as url:
        client = boto3.client("s3", endpoint_url=url, **boto_kwargs())
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="people/astronaut.jpg", Body=images.astronaut_jpeg())
        client.put_object(Bucket=BUCKET, Key="text.txt", Body=b"not an image")
        yield url


@pytest.fixture(scope="session")
def server(s3_server: str, artifacts_dir: Path) -> Iterator[str]:
    """humanseg under uvicorn on a loopback port, reading S3 from the moto server."""
    env = {
        **AWS_ENV,
        **SERVER_LIMITS,
        "HUMANSEG_URL_ALLOWLIST": "127.0.0.1/32",
        "HUMANSEG_S3_ENDPOINT_URL": s3_server,
        "HUMANSEG_MODELS": SERVED_MODELS,
    }
    with servers.humanseg_server(env, artifacts_dir / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as http:
        yield http


@pytest.fixture(autouse=True, scope="session")
def model_dir() -> Path:
    """The one model folder of the run: every server, CLI and worker the tests start reads it.

    HUMANSEG_MODEL_DIR if set, else the user's model cache, so a model is pulled at most once
    (by the first test that needs it) and kept for later runs, never into a fresh folder.
    """
    from humanseg.settings import default_model_dir

    path = Path(os.environ.get("HUMANSEG_MODEL_DIR") or default_model_dir())
    os.environ["HUMANSEG_MODEL_DIR"] = str(path)
    return path


@pytest.fixture(autouse=True, scope="session")
def _video_jobs_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Servers the tests start keep their video jobs in the run's temporary folder."""
    os.environ.setdefault("HUMANSEG_VIDEO_JOBS_DIR", str(tmp_path_factory.mktemp("video-jobs")))


@pytest.fixture(autouse=True, scope="session")
def _no_proxies() -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        os.environ.pop(name, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``-m "not slow"`` leaves out every test that needs a process started for it."""
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
