"""Every failure rendered as ``{"error": {"code", "message"}}``; request body size enforced."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from humanseg.api.observability import note_error
from humanseg.errors import HumansegError, error

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}

# Front ends whose clients expect another error body register it by path prefix (the
# remove.bg-compatible API answers {"errors": [...]}); everything else gets {"error": {...}}.
ERROR_SHAPES: dict[str, Callable[[HumansegError], dict[str, Any]]] = {}


def error_body(exc: HumansegError, path: str = "") -> dict[str, Any]:
    for prefix, shape in ERROR_SHAPES.items():
        if path.startswith(prefix):
            return shape(exc)
    return exc.to_dict()


def error_response(exc: HumansegError, path: str = "") -> JSONResponse:
    return JSONResponse(error_body(exc, path), status_code=exc.status, headers=exc.headers or None)


def _respond(request: Request, exc: HumansegError) -> JSONResponse:
    note_error(request.scope, exc.code)
    return error_response(exc, request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HumansegError)
    async def _humanseg(request: Request, exc: HumansegError) -> JSONResponse:
        return _respond(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else "HTTP error."
        error_ = HumansegError(exc.status_code, code, message, headers=exc.headers)
        return _respond(request, error_)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else "Invalid request."
        return _respond(request, error("invalid_request", message))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # nobody reads this answer; it names the outcome in the access log and the metrics
        return _respond(request, error("client_disconnected"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, RecursionError):  # input nested deeper than any parser should go
            return _respond(request, error("invalid_json", "The request is nested too deeply."))
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _respond(request, error("internal_error"))


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` (declared or streamed) with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = error(
            "request_too_large",
            f"The request body is larger than {self.max_bytes} bytes.",
        )
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                note_error(scope, too_large.code)
                await _send_json(send, too_large, scope.get("path", ""))
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large
            return message

        await self.app(scope, limited_receive, send)


async def _send_json(send: Send, exc: HumansegError, path: str = "") -> None:
    body = json.dumps(error_body(exc, path)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
