"""SageMaker-style routes, the catalog endpoints the playground reads, and the static files."""

from __future__ import annotations

import base64

import httpx

from humanseg.models.catalog import CATALOG
from humanseg.models.presets import PRESETS
from tests.support import images

PHOTO_B64 = base64.b64encode(images.astronaut_jpeg()).decode()


def test_ping_is_ready(client: httpx.Client) -> None:
    response = client.get("/ping")
    assert response.status_code == 200 and response.json()["status"] == "ready"


def test_invocations_answers_like_the_seed_endpoint(client: httpx.Client) -> None:
    body = {"img": PHOTO_B64, "type": "foreground"}
    seed = client.post("/human_image_segmentation", json=body)
    invocation = client.post("/invocations", json=body)
    assert invocation.status_code == 200
    assert invocation.json() == seed.json()
    assert images.decode(base64.b64decode(invocation.json()["result"])).mode == "RGBA"


def test_invocations_errors(client: httpx.Client) -> None:
    response = client.post("/invocations", content=b"[]", headers={"Content-Type": "text/csv"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert client.get("/invocations").json()["error"]["code"] == "method_not_allowed"


def test_models_lists_the_catalog(client: httpx.Client) -> None:
    answer = client.get("/v1/models").json()
    assert answer["default"] == "auto"
    names = [model["name"] for model in answer["models"]]
    pipelines = len(PRESETS)
    # the pipelines first
    assert names[:pipelines] == ["auto", "balanced", "quality", "quality-rvm"]
    # then every segmentation model (not the pose and face detectors used inside pipelines)
    assert names[pipelines:] == [
        name for name in CATALOG if name not in ("pose-detection", "face-detection")
    ]
    quality_rvm = answer["models"][3]
    assert quality_rvm["opt_in"] is True and "GPL-3.0" in quality_rvm["license"]
    assert "face-detection" in CATALOG
    auto = answer["models"][0]
    assert auto["kind"] == "pipeline" and auto["models"] == [
        "selfie",
        "pose-segmentation",
        "pose-detection",
        "face-detection",
    ]
    assert auto["license"] == "Apache-2.0" and auto["opt_in"] is False
    selfie = answer["models"][pipelines]
    assert selfie["name"] == "selfie" and selfie["kind"] == "model"
    assert selfie["license"] == "Apache-2.0" and selfie["person_specific"] is True
    isnet = next(model for model in answer["models"] if model["name"] == "isnet")
    assert isnet["opt_in"] is True and isnet["license"] == "AGPL-3.0"


def test_types_lists_the_output_types(client: httpx.Client) -> None:
    values = [kind["value"] for kind in client.get("/v1/types").json()["types"]]
    assert values[:2] == ["", "foreground"]


def test_request_may_name_a_model(client: httpx.Client) -> None:
    body = {"img": PHOTO_B64, "model": "selfie-landscape"}
    landscape = client.post("/human_image_segmentation", json=body)
    default = client.post("/human_image_segmentation", json={"img": PHOTO_B64})
    assert landscape.status_code == 200 and landscape.json() != default.json()
    unknown = client.post("/human_image_segmentation", json={"img": PHOTO_B64, "model": "x"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_model"


def test_playground_is_served_as_static_files(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="static/playground.js"' in page.text
    for asset, kind in (("playground.js", "javascript"), ("playground.css", "text/css")):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert client.get("/static/nope.js").json()["error"]["code"] == "not_found"
    assert client.post("/").json()["error"]["code"] == "method_not_allowed"
