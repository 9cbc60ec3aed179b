"""Request ids (accepted, returned, logged as JSON) and the Prometheus metrics."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import httpx
import pytest

from tests.support import images, servers

SEGMENT = "/human_image_segmentation"


@pytest.mark.parametrize("given", ["req-42", "a1b2c3d4-e5f6-7890-abcd-ef0123456789", "x" * 128])
def test_request_id_is_kept(client: httpx.Client, given: str) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": given})
    assert response.headers["X-Request-Id"] == given


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 129, "new\\nline", "<script>"])
def test_request_id_is_made_when_absent_or_unsafe(client: httpx.Client, given: str | None) -> None:
    headers = {"X-Request-Id": given} if given is not None else {}
    response = client.post(SEGMENT, content=b"{", headers=headers)
    assert response.status_code == 400
    made = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made) and made != given


def _log_entries(path: Path) -> list[dict]:
    entries = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def test_logs_are_json_with_the_request_id(
    client: httpx.Client, artifacts_dir: Path, server: str
) -> None:
    request_id = "log-test-7c1f"
    client.post(SEGMENT, content=b"[1]", headers={"X-Request-Id": request_id})
    log_path = artifacts_dir / "server.log"

    def logged() -> list[dict]:
        return [e for e in _log_entries(log_path) if e.get("request_id") == request_id]

    servers.wait_until(lambda: logged(), timeout=10, what="access log line")
    (entry,) = logged()
    assert entry["status"] == 400 and entry["code"] == "invalid_json"
    assert entry["method"] == "POST" and entry["path"] == SEGMENT
    assert entry["level"] == "info" and entry["duration_ms"] >= 0


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_status_and_code_and_time_the_model(
    client: httpx.Client,
) -> None:
    before = client.get("/metrics").text
    client.post(SEGMENT, content=b"nope")
    photo = base64.b64encode(images.astronaut_jpeg()).decode()
    assert client.post(SEGMENT, json={"img": photo}).status_code == 200
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text

    bad = {"route": SEGMENT, "status": "400", "code": "invalid_json"}
    good = {"route": SEGMENT, "status": "200", "code": ""}
    for labels in (bad, good):
        grown = _sample(text, "humanseg_requests_total", **labels)
        assert grown == _sample(before, "humanseg_requests_total", **labels) + 1, labels
    model = {"model": client.get("/readyz").json()["default_model"]}  # the server's default
    assert _sample(text, "humanseg_model_seconds_count", **model) == (
        _sample(before, "humanseg_model_seconds_count", **model) + 1
    )
    assert _sample(text, "humanseg_model_seconds_sum", **model) > 0
    assert _sample(text, "humanseg_pipeline_seconds_count", **model) >= 1
    assert _sample(text, "humanseg_request_duration_seconds_count", route=SEGMENT) >= 2
    for gauge in ("humanseg_in_flight", "humanseg_queue_depth"):
        assert re.search(rf"^{gauge} 0\.0$", text, re.M), gauge


def test_unknown_paths_share_one_label(client: httpx.Client) -> None:
    for path in ("/a", "/b/c", "/d?e=f"):
        client.get(path)
    text = client.get("/metrics").text
    assert "/b/c" not in text
    assert _sample(text, "humanseg_requests_total", route="(unmatched)", code="not_found") >= 3


@pytest.mark.slow
def test_metrics_add_up_every_worker_process(artifacts_dir: Path) -> None:
    """With --workers 2 each request lands on either process; /metrics counts them all."""
    env = {"HUMANSEG_WORKERS": "2", "HUMANSEG_LOG_LEVEL": "warning"}
    with servers.humanseg_server(env, artifacts_dir / "server-workers.log") as url:
        for _ in range(12):
            with httpx.Client(base_url=url) as fresh:  # a new connection: any worker may answer
                assert fresh.post(SEGMENT, content=b"{").status_code == 400
        labels = {"route": SEGMENT, "code": "invalid_json"}
        for _ in range(4):
            with httpx.Client(base_url=url) as fresh:
                text = fresh.get("/metrics").text
            assert _sample(text, "humanseg_requests_total", **labels) == 12
