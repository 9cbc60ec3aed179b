"""AWS Lambda handler: ``humanseg.adapters.aws_lambda.handler`` (needs the ``lambda`` extra).

HTTP events (API Gateway REST API payload 1.0, HTTP API and function URL payload 2.0, and
Application Load Balancer) go through Mangum, an ASGI adapter, to the same FastAPI app that
``humanseg serve`` runs: every route, API keys, request ids, body limits, metrics, error codes
and the remove.bg-compatible endpoint behave on Lambda as on the server. Binary answers (an
image from the remove.bg endpoint) come back base64-encoded with ``isBase64Encoded``.

A direct invocation whose event is the seed's JSON body (no HTTP envelope) is answered by the
seed route of the same app and returns its JSON answer itself: ``{"result": ...}`` or
``{"error": {...}}``. AWS has already authorised such a caller (``lambda:InvokeFunction``), so
no API key is asked of it.

The model is loaded once per container, during the first (cold) invocation.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import threading
from dataclasses import replace
from typing import Any

import pybase64 as base64

from humanseg.api.app import create_app
from humanseg.api.errors import ErrorRenderer
from humanseg.api.http_errors import http_status
from humanseg.api.service import Service
from humanseg.errors import ErrorCode, error
from humanseg.settings import Settings

try:
    from mangum import Mangum
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "The Lambda adapter needs Mangum: install humanseg with the `lambda` extra."
    ) from exc

SEED_PATH = "/human_image_segmentation"


def is_http_event(event: object) -> bool:
    """An API Gateway, function URL or load balancer event (else: a direct invocation)."""
    return isinstance(event, dict) and ("requestContext" in event or "httpMethod" in event)


def _direct_event(body: dict[str, Any]) -> dict[str, Any]:
    """A direct invocation's body as an HTTP API (payload 2.0) ``POST`` to the seed route."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": SEED_PATH,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": SEED_PATH,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "lambda-invoke",
            },
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


class LambdaHandler:
    """The handler: ``handler(event, context)``. Built on the first call (settings from the
    environment) unless ``settings`` or a ``service`` to share are given."""

    def __init__(self, settings: Settings | None = None, service: Service | None = None) -> None:
        self._settings = settings
        self._service = service
        self._http: Mangum | None = None
        self._direct: Mangum | None = None
        self._render = ErrorRenderer()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _build(self) -> None:
        if self._service is not None:
            settings = self._settings or self._service.settings
        else:
            settings = self._settings or Settings()
        service = self._service or Service(settings)
        app = create_app(settings, service=service)
        # direct invocations: authorised by AWS, and with no Host header to check
        direct_access = settings.access.model_copy(update={"auth": "none", "allowed_hosts": []})
        direct_settings = replace(settings, access=direct_access)
        # lifespan off: Mangum would run startup and shutdown around every invocation; the
        # model is loaded here instead, once per container
        self._http = Mangum(app, lifespan="off")
        self._direct = Mangum(create_app(direct_settings, service=service), lifespan="off")
        self._render = app.state.error_renderer
        self._service = service

    def _ready(self) -> None:
        with self._lock:
            if self._http is None:
                self._build()
            assert self._service is not None
            if not self._service.ready:  # cold start, or a retry after a failed load
                self._service.load_error = None
                self._service.load()
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)  # the loop Mangum runs the app on

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        self._ready()
        assert self._http is not None and self._direct is not None
        if not is_http_event(event):
            answer = self._direct(_direct_event(event), context)
            return json.loads(answer["body"])
        refusal = self._unreadable_body(event)
        if refusal is not None:
            return refusal
        return self._http(event, context)

    def _unreadable_body(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """A body flagged base64 that is not: answered here (the adapter would raise)."""
        if not event.get("isBase64Encoded") or not event.get("body"):
            return None
        try:
            base64.b64decode(event["body"], validate=True)
        except (binascii.Error, ValueError):
            exc = error(ErrorCode.INVALID_JSON, "The base64-encoded request body is not valid.")
            path = event.get("rawPath") or event.get("path") or ""
            return {
                "statusCode": http_status(exc.code),
                "headers": {"content-type": "application/json"},
                "body": json.dumps(self._render.body(exc, path)),
                "isBase64Encoded": False,
            }
        return None


handler = LambdaHandler()
