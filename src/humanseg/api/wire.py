"""Limits on the wire: uvicorn's httptools protocol with caps and deadlines on each request.

uvicorn's httptools parser buffers a header line of any length and waits for a request head or
body for ever; its h11 parser caps the head (``h11_max_incomplete_event_size``) but answers an
oversized one with a bare 400, has no head or body deadline, and refuses HTTP/1.1 requests
without a ``Host`` header that the service has always accepted. So humanseg keeps httptools
(the faster parser) and checks, before any ASGI task or worker is involved:

- the request line (414 ``request_line_too_long``), the head's size and its number of header
  fields (431 ``headers_too_large``), counted from the raw bytes as they arrive;
- a deadline for the head, and for a body both a longest silence and a minimum average rate
  (408 ``client_timeout``).

The connection is then answered and closed. Idle keep-alive connections are closed by uvicorn
after ``HUMANSEG_KEEPALIVE_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from humanseg.api.http_errors import error_body, http_status
from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.settings import AccessSettings

log = logging.getLogger("humanseg.access")

TICK = 0.5  # seconds between deadline checks of one connection
RATE_GRACE = 5.0  # seconds of a body before its average rate is judged (slow starts are normal)
_REASONS = {408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True)
class WireLimits:
    max_header_bytes: int
    max_header_count: int
    max_request_line: int
    client_timeout: float
    min_upload_rate: int

    @classmethod
    def from_settings(cls, settings: AccessSettings) -> WireLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            max_header_count=settings.max_header_count,
            max_request_line=settings.max_request_line,
            client_timeout=settings.client_timeout,
            min_upload_rate=settings.min_upload_rate,
        )


_CONFIG_ATTRIBUTE = "humanseg_wire_limits"


def set_limits(config: Any, limits: WireLimits) -> None:
    """Give a uvicorn ``Config``'s connections these limits. They travel with the config to
    every worker process, as plain values (see ``humanseg.api.factory`` for why)."""
    setattr(config, _CONFIG_ATTRIBUTE, asdict(limits))


def _limits_of(config: Any) -> WireLimits:
    limits = getattr(config, _CONFIG_ATTRIBUTE, None)
    if isinstance(limits, dict):
        limits = WireLimits(**limits)
        setattr(config, _CONFIG_ATTRIBUTE, limits)  # built once per process
    return limits if isinstance(limits, WireLimits) else _limits_from_environment()


@cache
def _limits_from_environment() -> WireLimits:
    """For a server started by plain uvicorn: ``HUMANSEG_*``, read once per process."""
    return WireLimits.from_settings(AccessSettings())


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the refusal is kept on the protocol."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """One client connection, with :class:`WireLimits` enforced (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = _limits_of(self.config)
        self._phase = "idle"  # idle → head → body → done (the app answers) → head …
        self._since = time.monotonic()  # start of the current phase
        self._head_bytes = 0
        self._header_count = 0
        self._body_bytes = 0
        self._last_byte = self._since
        self._refusal: HumansegError | None = None
        self._ticker: asyncio.TimerHandle | None = None

    # --- connection ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._ticker = self.loop.call_later(TICK, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        before = self._phase
        if self._refusal is not None:
            return
        super().data_received(data)  # a _Refused from a callback ends as send_400_response
        if self._refusal is not None:
            self._refuse(self._refusal)
            return
        if self._phase == "head":
            self._head_bytes = self._head_bytes + len(data) if before == "head" else len(data)
            if self._head_bytes > self.limits.max_header_bytes + self.limits.max_request_line:
                self._refuse(self._too_large())

    def send_400_response(self, msg: str) -> None:
        if self._refusal is not None:  # a limit stopped the parser: answer that instead
            self._refuse(self._refusal)
            return
        super().send_400_response(msg)

    # --- parser callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._enter("head")
        self._head_bytes = 0
        self._header_count = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_request_line:
            self._stop(
                error(
                    ErrorCode.REQUEST_LINE_TOO_LONG,
                    f"The request line is longer than {self.limits.max_request_line} bytes "
                    "(HUMANSEG_MAX_REQUEST_LINE).",
                )
            )

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._header_count += 1
        if self._header_count > self.limits.max_header_count:
            self._stop(
                error(
                    ErrorCode.HEADERS_TOO_LARGE,
                    f"The request has more than {self.limits.max_header_count} header fields "
                    "(HUMANSEG_MAX_HEADER_COUNT).",
                )
            )
        if sum(len(n) + len(v) + 4 for n, v in self.headers) > self.limits.max_header_bytes:
            self._stop(self._too_large())

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._enter("body")
        self._body_bytes = 0

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._body_bytes += len(body)
        self._last_byte = time.monotonic()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._enter("done")

    # --- limits -------------------------------------------------------------------------

    def _enter(self, phase: str) -> None:
        self._phase = phase
        self._since = self._last_byte = time.monotonic()

    def _too_large(self) -> HumansegError:
        return error(
            ErrorCode.HEADERS_TOO_LARGE,
            f"The request head is larger than {self.limits.max_header_bytes} bytes "
            "(HUMANSEG_MAX_HEADER_BYTES).",
        )

    def _stop(self, refusal: HumansegError) -> None:
        self._refusal = refusal
        raise _Refused

    def _tick(self) -> None:
        self._ticker = None
        if self.transport is None or self.transport.is_closing():
            return
        now = time.monotonic()
        limits = self.limits
        refusal: HumansegError | None = None
        if self._phase == "idle" and now - self._since > limits.client_timeout:
            self.transport.close()  # connected but never sent a byte: nothing to answer
            return
        if self._phase == "head" and now - self._since > limits.client_timeout:
            refusal = error(
                ErrorCode.CLIENT_TIMEOUT,
                f"The request head did not arrive within {limits.client_timeout:g} s "
                "(HUMANSEG_CLIENT_TIMEOUT).",
            )
        elif self._phase == "body":
            if self.flow.read_paused:  # we stopped reading, so the client is not to blame
                self._last_byte = now
            elapsed = now - self._since
            if now - self._last_byte > limits.client_timeout:
                refusal = error(
                    ErrorCode.CLIENT_TIMEOUT,
                    f"The request body stalled for more than {limits.client_timeout:g} s "
                    "(HUMANSEG_CLIENT_TIMEOUT).",
                )
            elif (
                elapsed > RATE_GRACE
                and not self.flow.read_paused
                and self._body_bytes < limits.min_upload_rate * (elapsed - RATE_GRACE)
            ):
                refusal = error(
                    ErrorCode.CLIENT_TIMEOUT,
                    f"The request body arrives slower than {limits.min_upload_rate} bytes/s "
                    "(HUMANSEG_MIN_UPLOAD_RATE).",
                )
        if refusal is not None:
            self._refuse(refusal)
            return
        self._ticker = self.loop.call_later(TICK, self._tick)

    def _refuse(self, refusal: HumansegError) -> None:
        """Answer ``refusal`` unless a response has begun, then close the connection."""
        if self.transport.is_closing():
            return
        client = (self.client or ("", 0))[0]
        status = http_status(refusal.code)
        log.warning(
            "refused on the wire: %s %s",
            status,
            refusal.code.value,
            extra={"status": status, "code": refusal.code.value, "client": client},
        )
        if self.cycle is None or not self.cycle.response_started:
            body = json.dumps(error_body(refusal)).encode()
            head = (
                b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n"
                % (status, _REASONS.get(status, b"Error"), len(body))
            )
            self.transport.write(head + body)
        if self.cycle is not None:  # the app sees a disconnect; its own answer is dropped
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()
