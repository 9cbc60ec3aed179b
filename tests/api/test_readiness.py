"""/readyz is 503 until the model is loaded and warmed up, and requests get 503 `not_ready`."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from humanseg.api.app import create_app
from humanseg.api.service import Service
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings, Settings
from tests.support import servers


class GatedPipeline(Pipeline):
    """The real pipeline, whose model load waits until the test opens the gate."""

    def __init__(self, settings: PipelineSettings) -> None:
        super().__init__(settings)
        self.gate = threading.Event()

    def load(self, model: str | None = None) -> None:
        self.gate.wait(timeout=120)
        super().load(model)


@pytest.fixture()
def gated_server() -> Iterator[tuple[str, GatedPipeline]]:
    settings = Settings()
    pipeline = GatedPipeline(settings.pipeline)
    app = create_app(settings, service=Service(settings, pipeline))
    port = servers.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    servers.wait_until(
        lambda: httpx.get(f"{url}/healthz").status_code == 200, timeout=30, what="gated server"
    )
    try:
        yield url, pipeline
    finally:
        pipeline.gate.set()
        server.should_exit = True
        thread.join(timeout=30)


def test_not_ready_until_model_loaded(gated_server: tuple[str, GatedPipeline]) -> None:
    url, pipeline = gated_server
    assert httpx.get(f"{url}/healthz").status_code == 200
    loading = httpx.get(f"{url}/readyz")
    assert loading.status_code == 503 and loading.json()["status"] == "loading"
    early = httpx.post(f"{url}/human_image_segmentation", json={"img": "AAAA"})
    assert early.status_code == 503
    assert early.json()["error"]["code"] == "not_ready"
    assert early.headers["Retry-After"]
    pipeline.gate.set()
    servers.wait_until(
        lambda: httpx.get(f"{url}/readyz").status_code == 200, timeout=120, what="model load"
    )
    ready = httpx.get(f"{url}/readyz").json()
    assert ready["default_model"] == "auto"
    # every model of the default pipeline is loaded before the server says it is ready
    assert ready["models"]["selfie"]["provider"] == "litert-cpu"
    assert ready["models"]["pose-detection"]["provider"] == "litert-cpu"
