"""The one exception type of humanseg: a stable code and a sentence for people.

The codes are :class:`ErrorCode`, each with its meaning in :data:`DESCRIPTIONS`; nothing here
knows about HTTP. Front ends turn an error into their own answer: the HTTP layer gives each code
its status and headers (``humanseg.api.http_errors``) and each endpoint its body shape, the CLI
prints a line on stderr and exits non-zero. The core only raises it.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every code humanseg answers with. Stable: clients match on these strings."""

    INVALID_JSON = "invalid_json"
    INVALID_REQUEST = "invalid_request"
    MISSING_INPUT = "missing_input"
    CONFLICTING_INPUT = "conflicting_input"
    INVALID_BASE64 = "invalid_base64"
    INVALID_TYPE = "invalid_type"
    INVALID_URL = "invalid_url"
    URL_FORBIDDEN = "url_forbidden"
    UNKNOWN_MODEL = "unknown_model"
    MODEL_NOT_SERVED = "model_not_served"
    MISSING_API_KEY = "missing_api_key"
    INVALID_API_KEY = "invalid_api_key"
    INVALID_FORMAT = "invalid_format"
    INVALID_COLOR = "invalid_color"
    INVALID_MARGIN = "invalid_margin"
    INVALID_ID_PRESET = "invalid_id_preset"
    MISSING_BACKGROUND = "missing_background"
    INVALID_PARAMETER = "invalid_parameter"
    UNKNOWN_FOREGROUND = "unknown_foreground"
    UNSAFE_PATH = "unsafe_path"
    CLIENT_DISCONNECTED = "client_disconnected"
    HOST_NOT_ALLOWED = "host_not_allowed"
    CROSS_ORIGIN_REFUSED = "cross_origin_refused"
    NOT_FOUND = "not_found"
    CLIENT_TIMEOUT = "client_timeout"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"
    BASE64_TOO_LARGE = "base64_too_large"
    DOWNLOAD_TOO_LARGE = "download_too_large"
    IMAGE_TOO_LARGE = "image_too_large"
    REQUEST_LINE_TOO_LONG = "request_line_too_long"
    HEADERS_TOO_LARGE = "headers_too_large"
    UNSUPPORTED_FORMAT = "unsupported_format"
    INVALID_IMAGE = "invalid_image"
    IMAGE_TOO_COMPLEX = "image_too_complex"
    NO_PERSON = "no_person"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    INVALID_VIDEO = "invalid_video"
    UNSUPPORTED_VIDEO_FORMAT = "unsupported_video_format"
    VIDEO_TOO_LARGE = "video_too_large"
    VIDEO_TOO_LONG = "video_too_long"
    JOB_NOT_FOUND = "job_not_found"
    JOB_NOT_FINISHED = "job_not_finished"
    JOB_FAILED = "job_failed"
    JOB_INTERRUPTED = "job_interrupted"
    FETCH_FAILED = "fetch_failed"
    MODEL_UNAVAILABLE = "model_unavailable"
    NOT_READY = "not_ready"
    OVERLOADED = "overloaded"
    REQUEST_TIMEOUT = "request_timeout"
    FETCH_TIMEOUT = "fetch_timeout"
    INTERNAL_ERROR = "internal_error"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]


# What each code means; docs/errors.md is generated from it.
DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.INVALID_JSON: "The request body is not a JSON object.",
    ErrorCode.INVALID_REQUEST: "A field has the wrong type or value.",
    ErrorCode.MISSING_INPUT: "Neither `img` nor `url` was given.",
    ErrorCode.CONFLICTING_INPUT: "Both `img` and `url` were given.",
    ErrorCode.INVALID_BASE64: "`img` is not valid base64.",
    ErrorCode.INVALID_TYPE: "`type` is not a known output type.",
    ErrorCode.INVALID_URL: "`url` is malformed or uses an unsupported scheme.",
    ErrorCode.URL_FORBIDDEN: "`url` points at a loopback, private or otherwise non-public address.",
    ErrorCode.UNKNOWN_MODEL: "The model named is not in the catalog.",
    ErrorCode.MODEL_NOT_SERVED: "The model named is not one this server was configured to run.",
    ErrorCode.MISSING_API_KEY: "No API key was sent (`Authorization: Bearer` or `X-Api-Key`).",
    ErrorCode.INVALID_API_KEY: "The API key sent is not valid.",
    ErrorCode.INVALID_FORMAT: "`format` is unknown, or jpeg was asked for an output with alpha.",
    ErrorCode.INVALID_COLOR: "`bg_color` is not a colour (hex, rgba() or a name).",
    ErrorCode.INVALID_MARGIN: "`crop_margin` is not a length such as 20px or 10%.",
    ErrorCode.INVALID_ID_PRESET: "`id_preset` is not a known ID photo size.",
    ErrorCode.MISSING_BACKGROUND: "`type` background was asked without a colour or image.",
    ErrorCode.INVALID_PARAMETER: "A remove.bg parameter has an unsupported value.",
    # remove.bg's own code and title for a photo with nobody in it (its endpoint only)
    ErrorCode.UNKNOWN_FOREGROUND: "Could not identify foreground in image.",
    ErrorCode.UNSAFE_PATH: (
        "A key or path would leave its folder or prefix (`..`, absolute, backslash, NUL, drive)."
    ),
    ErrorCode.CLIENT_DISCONNECTED: "The client closed the connection before the body ended.",
    ErrorCode.HOST_NOT_ALLOWED: "The Host header names a host this server does not answer for.",
    ErrorCode.CROSS_ORIGIN_REFUSED: "A cross-origin browser request that is not JSON.",
    ErrorCode.NOT_FOUND: "No such path.",
    ErrorCode.CLIENT_TIMEOUT: "The request head or body arrived too slowly; the connection is cut.",
    ErrorCode.METHOD_NOT_ALLOWED: "The path does not accept this HTTP method.",
    ErrorCode.REQUEST_TOO_LARGE: "The request body is larger than the limit.",
    ErrorCode.BASE64_TOO_LARGE: "A base64 field is longer than the base64 length limit.",
    ErrorCode.DOWNLOAD_TOO_LARGE: "The image behind `url` is larger than the download limit.",
    ErrorCode.IMAGE_TOO_LARGE: "The image is wider, taller or has more pixels than the limit.",
    ErrorCode.REQUEST_LINE_TOO_LONG: "The request line is longer than the limit.",
    ErrorCode.HEADERS_TOO_LARGE: "The request head has too many or too large header fields.",
    ErrorCode.UNSUPPORTED_FORMAT: "The bytes are not a JPEG, PNG or BMP image.",
    ErrorCode.INVALID_IMAGE: "The bytes look like an image but cannot be decoded.",
    ErrorCode.IMAGE_TOO_COMPLEX: (
        "The image costs too much to decode (e.g. a JPEG with too many scans)."
    ),
    ErrorCode.NO_PERSON: "No person was found, so there is nothing to crop to.",
    ErrorCode.NO_FACE: "`id_photo`: no face was found in the image.",
    ErrorCode.MULTIPLE_FACES: "`id_photo`: more than one face was found in the image.",
    ErrorCode.INVALID_VIDEO: "The file is not a video with a picture stream that can be decoded.",
    ErrorCode.UNSUPPORTED_VIDEO_FORMAT: "The video is not an MP4, MOV, WebM, MKV or animated GIF.",
    ErrorCode.VIDEO_TOO_LARGE: (
        "The video file (uploaded or behind `url`), or its frames' longest side, is larger "
        "than the limit."
    ),
    ErrorCode.VIDEO_TOO_LONG: "The video lasts longer or has more frames than the limit.",
    ErrorCode.JOB_NOT_FOUND: "No video job has this id (it never existed, or it was deleted).",
    ErrorCode.JOB_NOT_FINISHED: "The video job is still queued or running; poll its status.",
    ErrorCode.JOB_FAILED: "The video job failed or was cancelled, so it has no result.",
    ErrorCode.JOB_INTERRUPTED: (
        "The server stopped while the video job ran, and its input did not survive to resume it."
    ),
    ErrorCode.FETCH_FAILED: "The remote server or S3 store answered with an error.",
    ErrorCode.MODEL_UNAVAILABLE: (
        "The model cannot run here (its runtime or file is missing: the message says what to "
        "install or place) or could not be loaded."
    ),
    ErrorCode.NOT_READY: "The model is still loading; retry shortly.",
    ErrorCode.OVERLOADED: "Too many requests are waiting; retry after `Retry-After` seconds.",
    ErrorCode.REQUEST_TIMEOUT: "The request took longer than the per-request time budget.",
    ErrorCode.FETCH_TIMEOUT: "The remote server or S3 store did not answer in time.",
    ErrorCode.INTERNAL_ERROR: "An unexpected failure; it has been logged.",
}


class HumansegError(Exception):
    """A failure the caller can act on. ``code`` is stable; ``message`` is for people."""

    def __init__(self, code: ErrorCode | str, message: str | None = None) -> None:
        code = ErrorCode(code)  # an unregistered code is a ValueError here, not a wrong answer
        message = message or DESCRIPTIONS[code]
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:  # survives pickling (process pools, Ray)
        return (type(self), (self.code, self.message))


def error(code: ErrorCode | str, message: str | None = None) -> HumansegError:
    """The error for ``code``, with ``message`` or the code's description."""
    return HumansegError(code, message)
