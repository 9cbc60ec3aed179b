"""Where image bytes come from: inline base64, http(s) URLs (guarded) and S3."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import pybase64 as base64
from pydantic import AfterValidator, ValidationInfo

from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.settings import AccessSettings, SourceSettings

_DATA_URI = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w=.+-]+)*;base64,", re.IGNORECASE)
# The validation context key of the longest base64 text a request field may hold.
MAX_BASE64_CHARS = "max_base64_chars"


def base64_limit(settings: AccessSettings) -> dict[str, int]:
    """The validation context that puts every ``Base64Text`` field under the settings' limit."""
    return {MAX_BASE64_CHARS: settings.max_base64_chars}


def check_base64_length(text: str, *, field: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise error(
            ErrorCode.BASE64_TOO_LARGE,
            f"`{field}` is {len(text)} characters long; at most {max_chars} are accepted "
            "(HUMANSEG_MAX_BASE64_CHARS).",
        )


def _within_limit(text: str, info: ValidationInfo) -> str:
    context = info.context or {}
    if MAX_BASE64_CHARS not in context:
        raise RuntimeError("validate a request with context=base64_limit(settings)")
    check_base64_length(text, field=info.field_name or "img", max_chars=context[MAX_BASE64_CHARS])
    return text


# A request field that carries image bytes as base64 text: checked against the one limit when
# the request is validated, before anything else is read or fetched.
Base64Text = Annotated[str, AfterValidator(_within_limit)]


def decode_base64(text: str, *, field: str = "img") -> bytes:
    """Standard or URL-safe base64, with or without padding, line breaks or a data: prefix."""
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


@contextmanager
def video_limit(settings: SourceSettings, max_bytes: int) -> Iterator[SourceSettings]:
    """``settings`` for fetching a clip: the same url guards and timeouts, but capped by the
    video size limit instead of the image download limit; over it, ``video_too_large``."""
    try:
        yield settings.model_copy(update={"max_download_bytes": max_bytes})
    except HumansegError as exc:
        if exc.code is not ErrorCode.DOWNLOAD_TOO_LARGE:
            raise
        raise error(
            ErrorCode.VIDEO_TOO_LARGE,
            f"The video behind the url is larger than {max_bytes} bytes, the video size limit "
            "(HUMANSEG_VIDEO_MAX_BYTES).",
        ) from None
