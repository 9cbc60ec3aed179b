"""The Lambda handler with API Gateway's documented event shapes, on the real core."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from humanseg.adapters.aws_lambda import handler
from humanseg.pipeline import OutputType, Pipeline
from humanseg.settings import Settings
from tests.support import images
from tests.support.lambda_events import HTTP_V2, REST_V1, event

PHOTO = images.astronaut_jpeg()
SEED_BODY = json.dumps({"img": base64.b64encode(PHOTO).decode()}).encode()
FOREGROUND_BODY = json.dumps(
    {"img": base64.b64encode(PHOTO).decode(), "type": "foreground"}
).encode()


def _result_png(response: dict) -> bytes:
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["isBase64Encoded"] is False
    return base64.b64decode(json.loads(response["body"])["result"])


@pytest.mark.parametrize("template", [REST_V1, HTTP_V2], ids=["rest-v1", "http-v2"])
@pytest.mark.parametrize("encode", [False, True], ids=["plain", "base64"])
def test_matte_like_the_seed(template: dict, encode: bool) -> None:
    png = _result_png(handler(event(template, SEED_BODY, encode=encode), None))
    matte = images.decode(png)
    assert matte.mode == "L" and matte.size == (512, 512)
    head, corners = images.person_region_alpha(np.asarray(matte))
    assert head > 0.9 and corners < 0.1


def test_same_bytes_as_the_core() -> None:
    core = Pipeline(Settings()).process(PHOTO, OutputType.FOREGROUND).data
    png = _result_png(handler(event(HTTP_V2, FOREGROUND_BODY, encode=True), None))
    assert png == core and images.decode(png).mode == "RGBA"


@pytest.mark.parametrize("template", [REST_V1, HTTP_V2], ids=["rest-v1", "http-v2"])
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
        (event(template, b"{}", method="DELETE"), 405, "method_not_allowed"),
    ]
    for lambda_event, status, code in cases:
        response = handler(lambda_event, None)
        assert response["statusCode"] == status, (code, response)
        assert json.loads(response["body"]) == {
            "error": {"code": code, "message": json.loads(response["body"])["error"]["message"]}
        }


def test_body_over_the_limit() -> None:
    from humanseg.settings import get_settings

    limit = get_settings().max_body_bytes
    response = handler(event(HTTP_V2, b" " * (limit + 1), encode=True), None)
    assert response["statusCode"] == 413
    assert json.loads(response["body"])["error"]["code"] == "request_too_large"


def test_get_reports_readiness() -> None:
    response = handler(event(REST_V1, None, method="GET"), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ready"


def test_direct_invocation_with_the_seed_body() -> None:
    answer = handler({"img": base64.b64encode(PHOTO).decode(), "type": "foreground"}, None)
    assert images.decode(base64.b64decode(answer["result"])).mode == "RGBA"
    assert handler({"type": "foreground"}, None)["error"]["code"] == "missing_input"
