"""The error registry: codes in the core without HTTP, statuses and headers in the HTTP layer,
each front end's shape, and the client raising from the same codes. No server is started."""

from __future__ import annotations

import ast
import asyncio
import pickle
from pathlib import Path

import httpx
import pytest

from humanseg.api import removebg
from humanseg.api.errors import ErrorRenderer
from humanseg.api.http_errors import HEADERS, STATUS, code_for_status, error_body
from humanseg.client import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    ImageError,
    UpstreamError,
    _api_error,
)
from humanseg.errors import DESCRIPTIONS, ErrorCode, HumansegError, error
from humanseg.settings import load_settings

SRC = Path(__file__).parents[2] / "src" / "humanseg"


def test_every_code_has_a_meaning_and_a_status() -> None:
    assert set(DESCRIPTIONS) == set(ErrorCode) == set(STATUS)
    assert all(400 <= status < 600 for status in STATUS.values())
    assert set(HEADERS) <= set(ErrorCode)


def test_the_core_error_knows_no_http() -> None:
    exc = error(ErrorCode.NO_PERSON, "nobody here")
    assert exc.code is ErrorCode.NO_PERSON and exc.code == "no_person"
    assert exc.message == str(exc) == "nobody here"
    assert not hasattr(exc, "status") and not hasattr(exc, "headers")
    assert HumansegError("not_ready").message == ErrorCode.NOT_READY.description
    with pytest.raises(ValueError):
        HumansegError("no_such_code")
    copy = pickle.loads(pickle.dumps(exc))  # crosses process pools and Ray intact
    assert (type(copy), copy.code, copy.message) == (HumansegError, exc.code, exc.message)


def test_every_code_raised_in_the_sources_is_registered() -> None:
    """``error("...")`` with a literal must name a registered code (a typo fails here)."""
    known = {code.value for code in ErrorCode}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("error", "HumansegError")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                assert node.args[0].value in known, (path.name, node.args[0].value)
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "ErrorCode":
                assert node.attr.lower() in known or node.attr == "description", path.name


def test_statuses_and_headers_come_from_the_http_layer() -> None:
    render = ErrorRenderer()
    response = render.response(error(ErrorCode.OVERLOADED))
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    response = render.response(error(ErrorCode.MISSING_API_KEY))
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert render.response(error(ErrorCode.NOT_READY)).headers["retry-after"] == "5"
    assert "retry-after" not in render.response(error(ErrorCode.INVALID_JSON)).headers
    assert code_for_status(404) is ErrorCode.NOT_FOUND
    assert code_for_status(405) is ErrorCode.METHOD_NOT_ALLOWED
    assert code_for_status(409) is ErrorCode.INVALID_REQUEST


def test_each_front_end_renders_its_own_shape() -> None:
    exc = error(ErrorCode.INVALID_PARAMETER, "bad size")
    assert error_body(exc) == {"error": {"code": "invalid_parameter", "message": "bad size"}}
    assert removebg.error_body(exc) == {"errors": [{"title": "bad size", "code": exc.code}]}
    # importing the remove.bg front end changes no shared registry: a renderer knows only the
    # shapes it was built with
    assert ErrorRenderer().body(exc, removebg.PATH) == error_body(exc)
    render = ErrorRenderer({removebg.PATH: removebg.error_body})
    assert render.body(exc, removebg.PATH) == removebg.error_body(exc)
    assert render.body(exc, "/human_image_segmentation") == error_body(exc)


def test_the_app_shapes_errors_by_path_and_checks_the_key_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from humanseg.api.app import create_app
    from humanseg.api.auth import ApiKeys

    checks: list[str] = []
    original_check = ApiKeys.check

    def counted(self: ApiKeys, headers: object) -> None:
        checks.append("check")
        original_check(self, headers)  # type: ignore[arg-type]

    monkeypatch.setattr(ApiKeys, "check", counted)
    app = create_app(load_settings(auth="api_key", api_keys=["secret"]))

    async def requests() -> None:  # no model is needed: every answer comes before one is used
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            seed = await client.post("/human_image_segmentation", json={})
            assert seed.status_code == 401 and seed.json()["error"]["code"] == "missing_api_key"
            assert seed.headers["www-authenticate"] == "Bearer"
            answer = await client.post(
                removebg.PATH, data={"size": "x"}, headers={"X-Api-Key": "bad"}
            )
            assert answer.status_code == 403
            assert answer.json() == {
                "errors": [{"title": "The API key sent is not valid.", "code": "invalid_api_key"}]
            }
            wrong_method = await client.get(
                "/human_image_segmentation", headers={"X-Api-Key": "secret"}
            )
            assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
            assert wrong_method.json()["error"]["code"] == "method_not_allowed"
            checks.clear()
            answer = await client.post(
                removebg.PATH, data={"size": "x"}, headers={"X-Api-Key": "secret"}
            )
            assert answer.json()["errors"][0]["code"] == "invalid_parameter"
            assert checks == ["check"]  # the remove.bg route checks the key once, as every route

    asyncio.run(requests())


def _response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", "http://test/"), **kwargs)


def test_the_client_raises_from_the_same_codes() -> None:
    exc = _api_error(_response(415, json={"error": {"code": "unsupported_format", "message": "x"}}))
    assert isinstance(exc, ImageError) and exc.code is ErrorCode.UNSUPPORTED_FORMAT
    assert exc.status == 415
    exc = _api_error(_response(403, json={"error": {"code": "invalid_api_key", "message": "x"}}))
    assert isinstance(exc, AuthenticationError)
    # a code this client does not know, or an answer that is not humanseg's: fetch_failed
    exc = _api_error(_response(400, json={"error": {"code": "brand_new", "message": "new"}}))
    assert isinstance(exc, UpstreamError) and exc.code is ErrorCode.FETCH_FAILED
    assert exc.status == 400 and "brand_new" in exc.message and "new" in exc.message
    exc = _api_error(_response(502, text="<html>Bad gateway</html>"))
    assert exc.code is ErrorCode.FETCH_FAILED and "Bad gateway" in exc.message
    for original in (exc, ApiConnectionError(ErrorCode.FETCH_TIMEOUT, "slow")):
        copy = pickle.loads(pickle.dumps(original))
        assert (type(copy), copy.status, copy.code) == (
            type(original),
            original.status,
            original.code,
        )
    assert isinstance(exc, ApiError | HumansegError)
