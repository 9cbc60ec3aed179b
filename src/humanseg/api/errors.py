"""Every failure answered as JSON in its front end's shape; request body size enforced.

An :class:`ErrorRenderer` turns a :class:`HumansegError` into a response: the status and headers
come from the code (``humanseg.api.http_errors``), the body's shape from the front end that owns
the path (humanseg's ``{"error": {...}}`` unless the app was built with another for a prefix,
as the remove.bg-compatible endpoint is). The app builds one renderer and hands it to its error
handlers and to every middleware that answers by itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from humanseg.api.http_errors import code_for_status, error_body, http_headers, http_status
from humanseg.api.observability import note_error
from humanseg.errors import ErrorCode, HumansegError, error

log = logging.getLogger(__name__)

ErrorShape = Callable[[HumansegError], dict[str, Any]]


class ErrorRenderer:
    """Status and headers by code; the body by the path's front end (``shapes``, by prefix)."""

    def __init__(self, shapes: Mapping[str, ErrorShape] | None = None) -> None:
        self.shapes = dict(shapes or {})

    def body(self, exc: HumansegError, path: str = "") -> dict[str, Any]:
        for prefix, shape in self.shapes.items():
            if path.startswith(prefix):
                return shape(exc)
        return error_body(exc)

    def response(
        self,
        exc: HumansegError,
        path: str = "",
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> JSONResponse:
        """The answer to ``exc``; ``status`` and ``headers`` only for the framework's own."""
        return JSONResponse(
            self.body(exc, path),
            status_code=status or http_status(exc.code),
            headers={**http_headers(exc.code), **(headers or {})} or None,
        )

    def __call__(self, scope: Scope, exc: HumansegError) -> JSONResponse:
        note_error(scope, exc.code)
        return self.response(exc, scope.get("path", ""))


def install_error_handlers(app: FastAPI, render: ErrorRenderer) -> None:
    def respond(
        request: Request, exc: HumansegError, status: int | None = None, headers: Any = None
    ) -> JSONResponse:
        note_error(request.scope, exc.code)
        return render.response(exc, request.url.path, status=status, headers=headers)

    @app.exception_handler(HumansegError)
    async def _humanseg(request: Request, exc: HumansegError) -> JSONResponse:
        return respond(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "HTTP error."
        error_ = error(code_for_status(exc.status_code), message)
        return respond(request, error_, exc.status_code, exc.headers)  # 405 keeps its Allow

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else "Invalid request."
        return respond(request, error(ErrorCode.INVALID_REQUEST, message))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # nobody reads this answer; it names the outcome in the access log and the metrics
        return respond(request, error(ErrorCode.CLIENT_DISCONNECTED))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, RecursionError):  # input nested deeper than any parser should go
            return respond(
                request, error(ErrorCode.INVALID_JSON, "The request is nested too deeply.")
            )
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(request, error(ErrorCode.INTERNAL_ERROR))


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` (declared or streamed) with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int, render: ErrorRenderer) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = error(
            ErrorCode.REQUEST_TOO_LARGE,
            f"The request body is larger than {self.max_bytes} bytes.",
        )
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                note_error(scope, too_large.code)
                await self._send_json(send, too_large, scope.get("path", ""))
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

    async def _send_json(self, send: Send, exc: HumansegError, path: str) -> None:
        body = json.dumps(self.render.body(exc, path)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": http_status(exc.code),
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
