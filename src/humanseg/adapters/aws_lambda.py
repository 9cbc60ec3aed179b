"""AWS Lambda handler: ``humanseg.adapters.aws_lambda.handler``.

Takes API Gateway proxy events (REST API payload 1.0 and HTTP API / function URL payload 2.0,
plain or base64-encoded bodies) and answers exactly like ``POST /human_image_segmentation``:
``{"result": "<base64 PNG>"}`` or ``{"error": {"code", "message"}}`` with the same status.
A direct invocation whose event is the seed's JSON body returns the answer object itself.
"""

from __future__ import annotations

import binascii
import json
import logging
from typing import Any

import pybase64 as base64

from humanseg.api.seed import segment
from humanseg.api.service import Service
from humanseg.errors import HumansegError, error
from humanseg.settings import get_settings

log = logging.getLogger(__name__)

_service: Service | None = None


def _ready_service() -> Service:
    """One service per Lambda container, loaded during the first (cold) invocation."""
    global _service
    if _service is None:
        _service = Service(get_settings())
    if not _service.ready:
        _service.load_error = None
        _service.load()
    return _service


def _method(event: dict[str, Any]) -> str | None:
    if "httpMethod" in event:  # payload 1.0
        return str(event["httpMethod"]).upper()
    http = (event.get("requestContext") or {}).get("http")
    if isinstance(http, dict) and "method" in http:  # payload 2.0
        return str(http["method"]).upper()
    return None


def _body(event: dict[str, Any], limit: int) -> bytes:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        if len(raw) > limit * 4 // 3 + 4:
            raise error("request_too_large", f"The request body is larger than {limit} bytes.")
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise error("invalid_json", "The base64-encoded request body is not valid.") from None
    else:
        body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if len(body) > limit:
        raise error("request_too_large", f"The request body is larger than {limit} bytes.")
    return body


def _response(status: int, payload: bytes, headers: dict[str, str] | None = None) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": payload.decode("ascii"),
        "isBase64Encoded": False,
    }


def _error_response(exc: HumansegError) -> dict:
    return _response(exc.status, json.dumps(exc.to_dict()).encode(), exc.headers)


def handler(event: dict[str, Any], context: object = None) -> dict:
    method = _method(event)
    try:
        if method is None:  # direct invocation: the event is the seed's body
            service = _ready_service()
            return json.loads(segment(json.dumps(event).encode(), service))
        if method == "GET":
            service = _ready_service()
            status = 200 if service.ready else 503
            return _response(status, json.dumps(service.readiness()).encode())
        if method != "POST":
            raise error("method_not_allowed", f"{method} is not allowed; use POST.")
        body = _body(event, get_settings().max_body_bytes)
        return _response(200, segment(body, _ready_service()))
    except HumansegError as exc:
        if method is None:
            return exc.to_dict()
        return _error_response(exc)
    except Exception:
        log.exception("unhandled error in the Lambda handler")
        if method is None:
            return error("internal_error").to_dict()
        return _error_response(error("internal_error"))
