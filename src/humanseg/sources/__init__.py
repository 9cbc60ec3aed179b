"""Where image bytes come from: inline base64, http(s) URLs (guarded) and S3."""

from __future__ import annotations

import binascii
import re

import pybase64 as base64

from humanseg.errors import ErrorCode, error
from humanseg.settings import SourceSettings

_DATA_URI = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w=.+-]+)*;base64,", re.IGNORECASE)


def decode_base64(text: str, *, field: str = "img", max_chars: int | None = None) -> bytes:
    """Standard or URL-safe base64, with or without padding, line breaks or a data: prefix."""
    if max_chars is not None and len(text) > max_chars:
        raise error(
            ErrorCode.BASE64_TOO_LARGE,
            f"`{field}` is {len(text)} characters long; at most {max_chars} are accepted "
            "(HUMANSEG_MAX_BASE64_CHARS).",
        )
    match = _DATA_URI.match(text[:200])
    if match:
        text = text[match.end() :]
    if any(c.isspace() for c in text[:100]) or "\n" in text:
        text = "".join(text.split())
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise error(
            ErrorCode.INVALID_BASE64, f"`{field}` is not valid base64-encoded data."
        ) from None


def fetch(url: str, settings: SourceSettings) -> bytes:
    """The bytes behind an ``http(s)://`` or ``s3://`` url."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "s3":
        from humanseg.sources.s3 import fetch_s3

        return fetch_s3(url, settings)
    from humanseg.sources.http import fetch_url

    return fetch_url(url, settings)
