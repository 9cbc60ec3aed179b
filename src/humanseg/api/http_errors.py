"""HTTP for humanseg's errors: each code's status and headers, and humanseg's own error body.

The core raises :class:`~humanseg.errors.HumansegError` with an :class:`ErrorCode` and knows
nothing of HTTP; this table gives every code its status (OpenAPI, docs/errors.md and the Python
client read it too), and the few codes that carry a header their clients act on. Each front end
renders the body in its own shape: :func:`error_body` is the seed API's (and every route's but
the remove.bg-compatible one). Kept free of web-framework imports so the client can use it.
"""

from __future__ import annotations

from typing import Any

from humanseg.errors import ErrorCode, HumansegError

STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.MISSING_INPUT: 400,
    ErrorCode.CONFLICTING_INPUT: 400,
    ErrorCode.INVALID_BASE64: 400,
    ErrorCode.INVALID_TYPE: 400,
    ErrorCode.INVALID_URL: 400,
    ErrorCode.URL_FORBIDDEN: 400,
    ErrorCode.UNKNOWN_MODEL: 400,
    ErrorCode.MODEL_NOT_SERVED: 400,
    ErrorCode.MISSING_API_KEY: 401,
    ErrorCode.INVALID_API_KEY: 403,
    ErrorCode.INVALID_FORMAT: 400,
    ErrorCode.INVALID_COLOR: 400,
    ErrorCode.INVALID_MARGIN: 400,
    ErrorCode.INVALID_ID_PRESET: 400,
    ErrorCode.MISSING_BACKGROUND: 400,
    ErrorCode.INVALID_PARAMETER: 400,
    ErrorCode.UNKNOWN_FOREGROUND: 400,
    ErrorCode.UNSAFE_PATH: 400,
    ErrorCode.CLIENT_DISCONNECTED: 400,
    ErrorCode.HOST_NOT_ALLOWED: 400,
    ErrorCode.CROSS_ORIGIN_REFUSED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CLIENT_TIMEOUT: 408,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.BASE64_TOO_LARGE: 413,
    ErrorCode.DOWNLOAD_TOO_LARGE: 413,
    ErrorCode.IMAGE_TOO_LARGE: 413,
    ErrorCode.REQUEST_LINE_TOO_LONG: 414,
    ErrorCode.HEADERS_TOO_LARGE: 431,
    ErrorCode.UNSUPPORTED_FORMAT: 415,
    ErrorCode.INVALID_IMAGE: 422,
    ErrorCode.IMAGE_TOO_COMPLEX: 422,
    ErrorCode.NO_PERSON: 422,
    ErrorCode.NO_FACE: 422,
    ErrorCode.MULTIPLE_FACES: 422,
    ErrorCode.INVALID_VIDEO: 422,
    ErrorCode.UNSUPPORTED_VIDEO_FORMAT: 415,
    ErrorCode.VIDEO_TOO_LARGE: 413,
    ErrorCode.VIDEO_TOO_LONG: 413,
    ErrorCode.JOB_NOT_FOUND: 404,
    ErrorCode.JOB_NOT_FINISHED: 409,
    ErrorCode.JOB_FAILED: 409,
    ErrorCode.JOB_INTERRUPTED: 500,
    ErrorCode.FETCH_FAILED: 502,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.NOT_READY: 503,
    ErrorCode.OVERLOADED: 503,
    ErrorCode.REQUEST_TIMEOUT: 504,
    ErrorCode.FETCH_TIMEOUT: 504,
    ErrorCode.INTERNAL_ERROR: 500,
}

# Headers a code always carries: how long to wait before retrying, how to authenticate.
HEADERS: dict[ErrorCode, dict[str, str]] = {
    ErrorCode.NOT_READY: {"Retry-After": "5"},
    ErrorCode.OVERLOADED: {"Retry-After": "1"},
    ErrorCode.JOB_NOT_FINISHED: {"Retry-After": "1"},
    ErrorCode.MISSING_API_KEY: {"WWW-Authenticate": "Bearer"},
}

# Statuses the web framework answers by itself (unknown path, wrong method, unreadable form).
_FRAMEWORK_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.INVALID_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    408: ErrorCode.CLIENT_TIMEOUT,
    413: ErrorCode.REQUEST_TOO_LARGE,
}


def http_status(code: ErrorCode) -> int:
    return STATUS[code]


def http_headers(code: ErrorCode) -> dict[str, str]:
    return dict(HEADERS.get(code, {}))


def code_for_status(status: int) -> ErrorCode:
    """The registered code for an HTTP error the framework raised with only a status."""
    if status in _FRAMEWORK_CODES:
        return _FRAMEWORK_CODES[status]
    return ErrorCode.INVALID_REQUEST if 400 <= status < 500 else ErrorCode.INTERNAL_ERROR


def codes_with_status(status: int) -> list[ErrorCode]:
    return [code for code, code_status in STATUS.items() if code_status == status]


def error_body(exc: HumansegError) -> dict[str, Any]:
    """humanseg's own error shape: ``{"error": {"code": ..., "message": ...}}``."""
    return {"error": {"code": exc.code.value, "message": exc.message}}
