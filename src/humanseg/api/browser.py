"""Protection for servers that a web page could reach: the Host check and cross-origin POSTs.

A page on any site can make the visitor's browser send requests to ``127.0.0.1``: simple
``text/plain`` or form POSTs go out without asking (no CORS preflight), and DNS rebinding lets a
page's own host name resolve to a local address. So:

- with ``HUMANSEG_ALLOWED_HOSTS`` set (``humanseg serve`` sets the loopback names when it binds
  a loopback address), a ``Host`` header naming another host is answered 400
  ``host_not_allowed``;
- a POST that a browser marks as cross-origin (an ``Origin`` that is not the ``Host``, or
  ``Sec-Fetch-Site: cross-site``/``same-site``) must be ``application/json``, which browsers
  only send after a CORS preflight that this server never grants; other content types are
  answered 403 ``cross_origin_refused``. Clients that are not browsers send no such headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from humanseg.api.errors import ErrorRenderer
from humanseg.errors import ErrorCode, HumansegError, error

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1")).strip()
    return ""


def host_name(host_header: str) -> str:
    """``Host`` without its port, lower case (``[::1]:8000`` → ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host_header: str, allowed: list[str]) -> bool:
    """Whether ``host_header`` names one of ``allowed`` (``*`` any, ``*.example.org`` any
    subdomain); an empty list allows every host."""
    if not allowed or not host_header:  # browsers always send Host; old HTTP/1.0 tools may not
        return True
    host = host_name(host_header)
    for pattern in (entry.strip().lower().strip("[]") for entry in allowed):
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


def cross_origin(scope: Scope) -> bool:
    """Whether a browser says this request comes from a page of another origin."""
    site = _header(scope, b"sec-fetch-site").lower()
    if site in ("cross-site", "same-site"):
        return True
    origin = _header(scope, b"origin")
    if not origin:
        return False
    if origin == "null":  # sandboxed frames and file: pages
        return True
    return urlsplit(origin).netloc.lower() != _header(scope, b"host").lower()


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class BrowserGuardMiddleware:
    def __init__(self, app: ASGIApp, allowed_hosts: list[str], render: ErrorRenderer) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(scope)
            if refusal is not None:
                await self.render(scope, refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> HumansegError | None:
        host = _header(scope, b"host")
        if not host_allowed(host, self.allowed_hosts):
            return error(
                ErrorCode.HOST_NOT_ALLOWED,
                f"This server does not answer for the host {host[:100]!r} "
                "(HUMANSEG_ALLOWED_HOSTS).",
            )
        if (
            scope["method"] == "POST"
            and cross_origin(scope)
            and not _is_json(_header(scope, b"content-type"))
        ):
            return error(
                ErrorCode.CROSS_ORIGIN_REFUSED,
                "A cross-origin browser request must be application/json; this server grants "
                "no CORS preflight, so call it from a server or a same-origin page.",
            )
        return None
