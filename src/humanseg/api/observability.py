"""Request ids, one access log line per request, and the request metrics.

The caller's ``X-Request-Id`` is kept when it is a sane token (else a fresh id is made); it is
returned on every response and attached to every log line written while serving the request,
worker threads included.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from humanseg.api import metrics
from humanseg.logs import REQUEST_ID

log = logging.getLogger("humanseg.access")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _VALID_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


def note_error(scope: Scope, code: str) -> None:
    """Record the error code of the answer, for the access log and the metrics."""
    scope.setdefault("state", {})["error_code"] = code


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "(unmatched)"
            code = scope.get("state", {}).get("error_code", "") if status >= 400 else ""
            metrics.REQUESTS.labels(scope["method"], route_path, str(status), code).inc()
            metrics.LATENCY.labels(route_path).observe(seconds)
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "code": code or None,
                    "duration_ms": round(seconds * 1000, 1),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            REQUEST_ID.reset(token)
