"""API-key authentication (``HUMANSEG_AUTH=api_key``) for every route but the open ones.

A key is sent as ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``. Keys come from
``HUMANSEG_API_KEYS`` and/or ``HUMANSEG_API_KEYS_FILE``; only their SHA-256 digests are kept
in memory, compared in constant time, and no key is ever logged or echoed.

``AuthMiddleware`` runs before the body is read, so an unauthenticated caller cannot make the
server buffer an upload. Its refusals are answered by the app's ``ErrorRenderer``, in the
shape of the front end that owns the path.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from humanseg.errors import ErrorCode, HumansegError, error

if TYPE_CHECKING:
    from humanseg.api.errors import ErrorRenderer
from humanseg.settings import AccessSettings

# Probes (SageMaker's /ping included), the API explorer, the schema and the playground page
# with its static files stay reachable without a key; the API calls they make need one.
OPEN_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/ping",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/",
    }
)
OPEN_PREFIXES = ("/static/",)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class ApiKeys:
    """The accepted keys, kept as digests."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = tuple({_digest(key) for key in (k.strip() for k in keys) if key})
        if not self._digests:
            raise ValueError(
                "HUMANSEG_AUTH=api_key but no key is configured: set HUMANSEG_API_KEYS or "
                "HUMANSEG_API_KEYS_FILE."
            )

    def __len__(self) -> int:
        return len(self._digests)

    def __repr__(self) -> str:
        return f"ApiKeys({len(self)} keys)"

    def accepts(self, key: str) -> bool:
        presented = _digest(key)
        matched = False
        for digest in self._digests:  # no early exit: time does not depend on which key matched
            matched |= hmac.compare_digest(presented, digest)
        return matched

    def check(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Raise 401 ``missing_api_key`` unless a key is sent, 403 ``invalid_api_key`` unless
        every key sent is valid: when both ``X-Api-Key`` and ``Authorization: Bearer`` come,
        both must hold a valid key, whatever their order."""
        keys = presented_keys(headers)
        if not keys:
            raise error(
                ErrorCode.MISSING_API_KEY,
                "This server needs an API key: send `Authorization: Bearer <key>` or "
                "`X-Api-Key: <key>`.",
            )
        if not all([self.accepts(key) for key in keys]):  # a list: every key is compared
            raise error(ErrorCode.INVALID_API_KEY, "The API key sent is not valid.")


def presented_keys(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """Every key sent as ``X-Api-Key`` or ``Authorization: Bearer``, in header order."""
    keys: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        text = value.decode("latin-1").strip()
        if lowered == b"x-api-key" and text:
            keys.append(text)
        elif lowered == b"authorization":
            scheme, _, credentials = text.partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                keys.append(credentials.strip())
    return keys


def load_api_keys(settings: AccessSettings) -> ApiKeys | None:
    """The keys to require, or None when ``HUMANSEG_AUTH=none``. ValueError if unusable."""
    if settings.auth == "none":
        return None
    keys = list(settings.api_keys)
    if settings.api_keys_file is not None:
        keys += _read_keys_file(settings.api_keys_file)
    return ApiKeys(keys)


def _read_keys_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Cannot read HUMANSEG_API_KEYS_FILE {str(path)!r}: {exc}.") from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


class AuthMiddleware:
    """Require an API key on every HTTP path except ``open_paths``."""

    def __init__(
        self,
        app: ASGIApp,
        keys: ApiKeys,
        render: ErrorRenderer,
        open_paths: frozenset[str] = OPEN_PATHS,
    ) -> None:
        self.app = app
        self.keys = keys
        self.open_paths = open_paths
        self.render = render

    def _is_open(self, path: str) -> bool:
        return path in self.open_paths or path.startswith(OPEN_PREFIXES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            self.keys.check(scope["headers"])
        except HumansegError as exc:
            await self.render(scope, exc)(scope, receive, send)  # the path's own error shape
            return
        await self.app(scope, receive, send)


def openapi_security(schema: dict[str, object]) -> None:
    """Declare both ways of sending the key, so the API explorer's "Authorize" button works."""
    components = schema.setdefault("components", {})
    assert isinstance(components, dict)
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    }
    schema["security"] = [{"bearer": []}, {"apiKey": []}]
