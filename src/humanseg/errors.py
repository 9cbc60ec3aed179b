"""The one exception type of humanseg: a stable code, an HTTP status and a sentence for people.

Front ends render it in their own shape (the seed API as ``{"error": {...}}``, the CLI as a line
on stderr and an exit code); the core only raises it.
"""

from __future__ import annotations


class HumansegError(Exception):
    """A failure the caller can act on. ``code`` is stable; ``message`` is for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}

    def __repr__(self) -> str:
        return f"HumansegError({self.status}, {self.code!r}, {self.message!r})"


# Every code the service can answer with, and its HTTP status; docs/errors.md and OpenAPI are
# generated from it.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid_json": (400, "The request body is not a JSON object."),
    "invalid_request": (400, "A field has the wrong type or value."),
    "missing_input": (400, "Neither `img` nor `url` was given."),
    "conflicting_input": (400, "Both `img` and `url` were given."),
    "invalid_base64": (400, "`img` is not valid base64."),
    "invalid_type": (400, "`type` is not a known output type."),
    "invalid_url": (400, "`url` is malformed or uses an unsupported scheme."),
    "url_forbidden": (400, "`url` points at a loopback, private or otherwise non-public address."),
    "unknown_model": (400, "The model named is not in the catalog."),
    "model_not_served": (400, "The model named is not one this server was configured to run."),
    "missing_api_key": (401, "No API key was sent (`Authorization: Bearer` or `X-Api-Key`)."),
    "invalid_api_key": (403, "The API key sent is not valid."),
    "invalid_format": (400, "`format` is unknown, or jpeg was asked for an output with alpha."),
    "invalid_color": (400, "`bg_color` is not a colour (hex, rgba() or a name)."),
    "invalid_margin": (400, "`crop_margin` is not a length such as 20px or 10%."),
    "invalid_id_preset": (400, "`id_preset` is not a known ID photo size."),
    "missing_background": (400, "`type` background was asked without a colour or image."),
    "invalid_parameter": (400, "A remove.bg parameter has an unsupported value."),
    # remove.bg's own code and title for a photo with nobody in it (its endpoint only)
    "unknown_foreground": (400, "Could not identify foreground in image."),
    "unsafe_path": (
        400,
        "A key or path would leave its folder or prefix (`..`, absolute, backslash, NUL, drive).",
    ),
    "client_disconnected": (400, "The client closed the connection before the body ended."),
    "host_not_allowed": (400, "The Host header names a host this server does not answer for."),
    "cross_origin_refused": (403, "A cross-origin browser request that is not JSON."),
    "not_found": (404, "No such path."),
    "client_timeout": (408, "The request head or body arrived too slowly; the connection is cut."),
    "method_not_allowed": (405, "The path does not accept this HTTP method."),
    "request_too_large": (413, "The request body is larger than the limit."),
    "base64_too_large": (413, "A base64 field is longer than the base64 length limit."),
    "download_too_large": (413, "The image behind `url` is larger than the download limit."),
    "image_too_large": (413, "The image is wider, taller or has more pixels than the limit."),
    "request_line_too_long": (414, "The request line is longer than the limit."),
    "headers_too_large": (431, "The request head has too many or too large header fields."),
    "unsupported_format": (415, "The bytes are not a JPEG, PNG or BMP image."),
    "invalid_image": (422, "The bytes look like an image but cannot be decoded."),
    "image_too_complex": (
        422,
        "The image costs too much to decode (e.g. a JPEG with too many scans).",
    ),
    "no_person": (422, "No person was found, so there is nothing to crop to."),
    "no_face": (422, "`id_photo`: no face was found in the image."),
    "multiple_faces": (422, "`id_photo`: more than one face was found in the image."),
    "fetch_failed": (502, "The remote server or S3 store answered with an error."),
    "model_unavailable": (
        503,
        "The model cannot run here (its runtime or file is missing: the message says what to "
        "install or place) or could not be loaded.",
    ),
    "not_ready": (503, "The model is still loading; retry shortly."),
    "overloaded": (503, "Too many requests are waiting; retry after `Retry-After` seconds."),
    "request_timeout": (504, "The request took longer than the per-request time budget."),
    "fetch_timeout": (504, "The remote server or S3 store did not answer in time."),
    "internal_error": (500, "An unexpected failure; it has been logged."),
}


def error(
    code: str, message: str | None = None, *, headers: dict[str, str] | None = None
) -> HumansegError:
    """Build the error for ``code`` with its registered status."""
    status, default_message = ERROR_CODES[code]
    return HumansegError(status, code, message or default_message, headers=headers)
