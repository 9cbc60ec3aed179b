"""The Lambda handler with AWS's documented event shapes (API Gateway REST API payload 1.0,
HTTP API payload 2.0, function URL), called in-process, on the real app and core."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import numpy as np
import pytest

from humanseg.adapters.aws_lambda import LambdaHandler, handler
from humanseg.api.service import Service
from humanseg.pipeline import OutputType, Pipeline
from humanseg.settings import PipelineSettings, Settings, load_settings
from tests.support import images
from tests.support.lambda_events import TEMPLATES, event

PHOTO = images.astronaut_jpeg()
PHOTO_B64 = base64.b64encode(PHOTO).decode()
SEED_BODY = json.dumps({"img": PHOTO_B64}).encode()
FOREGROUND_BODY = json.dumps({"img": PHOTO_B64, "type": "foreground"}).encode()
REMOVEBG = "/v1.0/removebg"
KEY = "lambda-secret"

templates = pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES.keys())


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    """One loaded model for every handler of this module (as one Lambda container has)."""
    service = Service(Settings())
    service.load()
    yield service
    service.shutdown()


@pytest.fixture(scope="module")
def secured(service: Service) -> LambdaHandler:
    return LambdaHandler(load_settings(auth="api_key", api_keys=[KEY]), service=service)


def _json(response: dict) -> dict:
    assert response["headers"]["content-type"] == "application/json", response
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def _result_png(response: dict) -> bytes:
    assert response["statusCode"] == 200, response["body"]
    return base64.b64decode(_json(response)["result"])


def _error(response: dict, status: int) -> dict:
    assert response["statusCode"] == status, response
    return _json(response)


@templates
@pytest.mark.parametrize("encode", [False, True], ids=["plain", "base64"])
def test_matte_like_the_seed(template: dict, encode: bool) -> None:
    png = _result_png(handler(event(template, SEED_BODY, encode=encode), None))
    matte = images.decode(png)
    assert matte.mode == "L" and matte.size == (512, 512)
    head, corners = images.person_region_alpha(np.asarray(matte))
    assert head > 0.9 and corners < 0.1


def test_same_bytes_as_the_core() -> None:
    core = Pipeline(PipelineSettings()).process(PHOTO, OutputType.FOREGROUND).data
    png = _result_png(handler(event(TEMPLATES["http-v2"], FOREGROUND_BODY, encode=True), None))
    assert png == core and images.decode(png).mode == "RGBA"


@templates
def test_removebg_answers_binary_base64_encoded(template: dict) -> None:
    boundary = "humanseg-lambda"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\nfull\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image_file"; '
            f'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + PHOTO
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = handler(event(template, form, encode=True, path=REMOVEBG, headers=headers), None)
    assert response["statusCode"] == 200, response["body"][:300]
    assert response["isBase64Encoded"] is True
    assert response["headers"]["content-type"] == "image/png"
    assert response["headers"]["x-type"] == "person"
    assert response["headers"]["x-width"] == "512"
    cutout = images.decode(base64.b64decode(response["body"]))
    assert cutout.mode == "RGBA" and cutout.size == (512, 512)


def test_removebg_errors_have_the_removebg_shape() -> None:
    body = json.dumps({"image_file_b64": PHOTO_B64, "size": "huge"}).encode()
    response = handler(event(TEMPLATES["function-url"], body, path=REMOVEBG), None)
    errors = _error(response, 400)["errors"]
    assert errors[0]["code"] == "invalid_parameter" and "size" in errors[0]["title"]


@templates
def test_errors_have_the_seed_shape_and_status(template: dict) -> None:
    cases = [
        (event(template, b"{not json"), 400, "invalid_json"),
        (event(template, None), 400, "invalid_json"),
        (event(template, b'{"img": "aGVsbG8=", "url": "s3://b/k"}'), 400, "conflicting_input"),
        (event(template, b"%%%", encode=True) | {"body": "%%%"}, 400, "invalid_json"),
        (
            event(template, json.dumps({"img": "aGVsbG8="}).encode(), encode=True),
            415,
            "unsupported_format",
        ),
        (event(template, json.dumps({"img": PHOTO_B64, "model": "nope"}).encode()), 400, None),
        (event(template, b"{}", method="DELETE"), 405, "method_not_allowed"),
        (event(template, b"{}", path="/no/such/path"), 404, "not_found"),
    ]
    for lambda_event, status, code in cases:
        answer = _error(handler(lambda_event, None), status)
        assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message"}
        assert answer["error"]["code"] == (code or "unknown_model"), answer


@templates
def test_api_keys_are_checked_as_on_the_server(template: dict, secured: LambdaHandler) -> None:
    missing = secured(event(template, SEED_BODY), None)
    assert _error(missing, 401)["error"]["code"] == "missing_api_key"
    assert missing["headers"]["www-authenticate"] == "Bearer"
    wrong = secured(event(template, SEED_BODY, headers={"X-Api-Key": "wrong"}), None)
    assert _error(wrong, 403)["error"]["code"] == "invalid_api_key"
    wrong_removebg = secured(
        event(template, b"{}", path=REMOVEBG, headers={"X-Api-Key": "wrong"}), None
    )
    assert _error(wrong_removebg, 403)["errors"][0]["code"] == "invalid_api_key"
    right = secured(event(template, SEED_BODY, headers={"Authorization": f"Bearer {KEY}"}), None)
    assert images.decode(_result_png(right)).mode == "L"
    # the probes stay open, as on the server
    assert secured(event(template, None, method="GET", path="/healthz"), None)["statusCode"] == 200


def test_request_ids_readiness_and_metrics(service: Service) -> None:
    lambda_handler = LambdaHandler(Settings(), service=service)
    template = TEMPLATES["rest-v1"]
    answer = lambda_handler(event(template, SEED_BODY, headers={"X-Request-Id": "req-42"}), None)
    assert answer["statusCode"] == 200 and answer["headers"]["x-request-id"] == "req-42"
    fresh = lambda_handler(event(template, b"{}"), None)["headers"]["x-request-id"]
    assert fresh and fresh != "req-42"
    ready = lambda_handler(event(template, None, method="GET", path="/readyz"), None)
    assert ready["statusCode"] == 200 and _json(ready)["status"] == "ready"
    metrics = lambda_handler(event(template, None, method="GET", path="/metrics"), None)
    assert metrics["statusCode"] == 200
    assert 'code="missing_input"' in metrics["body"]


def test_body_over_the_limit(service: Service) -> None:
    small = LambdaHandler(load_settings(max_body_bytes=2048), service=service)
    for template in TEMPLATES.values():
        response = small(event(template, b" " * 4096, encode=True), None)
        assert _error(response, 413)["error"]["code"] == "request_too_large"
        response = small(event(template, b" " * 4096, encode=True, path=REMOVEBG), None)
        assert _error(response, 413)["errors"][0]["code"] == "request_too_large"


def test_direct_invocation_with_the_seed_body(secured: LambdaHandler) -> None:
    answer = handler({"img": PHOTO_B64, "type": "foreground"}, None)
    assert images.decode(base64.b64decode(answer["result"])).mode == "RGBA"
    assert handler({"type": "foreground"}, None)["error"]["code"] == "missing_input"
    assert handler({"img": "aGVsbG8="}, None)["error"]["code"] == "unsupported_format"
    # authorised by AWS (lambda:InvokeFunction): no API key is asked of a direct invocation
    assert "result" in secured({"img": PHOTO_B64}, None)
