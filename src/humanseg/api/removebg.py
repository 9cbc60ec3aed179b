"""``POST /v1.0/removebg``: a drop-in for the remove.bg API, so its clients work unchanged.

Point a remove.bg client at this server's base URL instead of the vendor's. The request is
multipart or url-encoded form fields (or a JSON object with the same names); the answer is the
image bytes with ``X-Type``, ``X-Width`` and ``X-Height`` headers, or with
``Accept: application/json`` a ``{"data": {"result_b64": ...}}`` object. Errors are
``{"errors": [{"title": ..., "code": ...}]}``. The fields map onto the same ``OutputSpec``
as every other front end; the core pipeline does the work.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

import orjson
import pybase64 as base64
from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from humanseg.api.service import Service, confidence_header
from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.outputs import (
    ImageFormat,
    OutputSpec,
    OutputType,
    parse_color,
    parse_margin,
)
from humanseg.sources import decode_base64, fetch

PATH = "/v1.0/removebg"

router = APIRouter(tags=["remove.bg compatible"])


def error_body(exc: HumansegError) -> dict[str, Any]:
    """remove.bg's error shape; the app renders every error under ``PATH`` with it."""
    return {"errors": [{"title": exc.message, "code": exc.code.value}]}


# remove.bg's output sizes, as the most pixels of the result (None: the input's own size).
SIZES: dict[str, int | None] = {
    "preview": 250_000,
    "small": 250_000,
    "regular": 250_000,
    "medium": 1_500_000,
    "hd": 4_000_000,
    "full": None,
    "4k": None,
    "50mp": None,
    "auto": None,
}
# Foreground types a client may name; the service finds people whatever is named.
TYPES = {
    "auto",
    "person",
    "product",
    "animal",
    "car",
    "car_interior",
    "car_part",
    "transportation",
    "graphics",
    "other",
}
FORMATS = {"auto", "png", "jpg", "jpeg", "webp", "zip"}
CHANNELS = {"rgba", "alpha"}
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


@dataclass(frozen=True)
class RemoveBgRequest:
    """The form fields that matter, plus the image and background bytes once read."""

    fields: dict[str, str]
    image_file: bytes | None
    bg_image_file: bytes | None


def _field(fields: dict[str, str], name: str, default: str = "") -> str:
    return fields.get(name, default).strip()


def _percent(value: str, name: str, low: float, high: float) -> float:
    match = _PERCENT.match(value)
    number = float(match.group(1)) if match else -1.0
    if not low <= number <= high:
        raise error(
            ErrorCode.INVALID_PARAMETER,
            f"`{name}` must be a percentage from {low:g}% to {high:g}%, not {value[:30]!r}.",
        )
    return number / 100


def _bool(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("", "false", "0", "no", "off"):
        return False
    if lowered in ("true", "1", "yes", "on"):
        return True
    raise error(ErrorCode.INVALID_PARAMETER, f"`{name}` must be true or false, not {value[:30]!r}.")


def _choice(fields: dict[str, str], name: str, allowed: set[str] | dict, default: str) -> str:
    value = _field(fields, name, default).lower() or default
    if value not in allowed:
        options = ", ".join(sorted(allowed))
        raise error(
            ErrorCode.INVALID_PARAMETER, f"`{name}` must be one of {options}; not {value[:30]!r}."
        )
    return value


def _position(value: str) -> tuple[float, float] | None:
    lowered = value.lower()
    if lowered in ("", "original"):
        return None
    if lowered == "center":
        return (0.5, 0.5)
    parts = lowered.split()
    if len(parts) not in (1, 2):
        raise error(
            ErrorCode.INVALID_PARAMETER, "`position` is original, center, or 1-2 percentages."
        )
    x = _percent(parts[0], "position", 0, 100)
    y = _percent(parts[-1], "position", 0, 100)
    return (x, y)


def parse_removebg_spec(fields: dict[str, str], background: bytes | None) -> OutputSpec:
    """remove.bg's fields to the core's ``OutputSpec``; unsupported values are 400s."""
    size = _choice(fields, "size", SIZES, "preview")
    _choice(fields, "type", TYPES, "auto")
    fmt = _choice(fields, "format", FORMATS, "auto")
    channels = _choice(fields, "channels", CHANNELS, "rgba")
    crop = _bool(_field(fields, "crop"), "crop")
    margin = parse_margin(_field(fields, "crop_margin") or None, max_px=500)
    scale_text = _field(fields, "scale", "original").lower() or "original"
    scale = None if scale_text == "original" else _percent(scale_text, "scale", 10, 100)
    position = _position(_field(fields, "position"))
    if scale is not None and position is None:
        position = (0.5, 0.5)  # remove.bg: scaling implies centring unless told otherwise
    color_text = _field(fields, "bg_color")
    color = parse_color(color_text) if color_text else None
    if channels == "alpha":
        kind = OutputType.ALPHA
    elif background is not None or color is not None:
        kind = OutputType.BACKGROUND
    else:
        kind = OutputType.FOREGROUND
    if fmt in ("jpg", "jpeg") and kind is OutputType.FOREGROUND:
        kind, color = OutputType.BACKGROUND, (255, 255, 255, 255)  # JPEG: on white
    spec = OutputSpec(
        type=kind,
        bg_color=color if kind is OutputType.BACKGROUND else None,
        bg_image=background if kind is OutputType.BACKGROUND else None,
        crop=crop,
        crop_margin=margin,
        scale=scale,
        position=position,
        max_pixels=SIZES[size],
    )
    if fmt == "auto":
        image_format = (
            ImageFormat.PNG if spec.has_alpha or kind is OutputType.ALPHA else (ImageFormat.JPEG)
        )
    elif fmt in ("jpg", "jpeg"):
        if spec.has_alpha:
            raise error(
                ErrorCode.INVALID_FORMAT,
                "JPEG has no transparency; give an opaque bg_color or use png.",
            )
        image_format = ImageFormat.JPEG
    else:
        image_format = ImageFormat(fmt)
    return replace(spec, format=image_format)


async def read_request(request: Request) -> RemoveBgRequest:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        try:
            payload = orjson.loads(await request.body())  # nesting over 1024 levels: an error
        except orjson.JSONDecodeError:
            raise error(ErrorCode.INVALID_JSON, "The request body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise error(ErrorCode.INVALID_JSON, "The request body must be a JSON object.")
        fields = {k: _as_text(k, v) for k, v in payload.items() if v is not None}
        return RemoveBgRequest(fields, None, None)
    try:
        limit = request.app.state.service.settings.access.max_body_bytes
        form = await request.form(max_files=2, max_fields=64, max_part_size=limit)
    except HumansegError:
        raise
    except Exception:
        raise error(
            ErrorCode.INVALID_REQUEST,
            "The body must be multipart/form-data, application/x-www-form-urlencoded or JSON.",
        ) from None
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[name] = await value.read()
        else:
            fields[name] = value
    await form.close()
    return RemoveBgRequest(fields, files.get("image_file"), files.get("bg_image_file"))


def _as_text(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise error(
            ErrorCode.INVALID_PARAMETER, f"`{name[:50]}` must be a string, number or boolean."
        )
    return str(value)


def _image_bytes(parsed: RemoveBgRequest, service: Service) -> bytes:
    fields = parsed.fields
    sources = [
        name
        for name, present in (
            ("image_file", parsed.image_file is not None),
            ("image_file_b64", bool(_field(fields, "image_file_b64"))),
            ("image_url", bool(_field(fields, "image_url"))),
        )
        if present
    ]
    if not sources:
        raise error(
            ErrorCode.MISSING_INPUT, "Give the image as image_file, image_file_b64 or image_url."
        )
    if len(sources) > 1:
        raise error(ErrorCode.CONFLICTING_INPUT, f"Give only one of {', '.join(sources)}.")
    if parsed.image_file is not None:
        return parsed.image_file
    if sources[0] == "image_file_b64":
        return decode_base64(
            fields["image_file_b64"],
            field="image_file_b64",
            max_chars=service.settings.access.max_base64_chars,
        )
    return fetch(_field(fields, "image_url"), service.settings.sources)


def _background_bytes(parsed: RemoveBgRequest, service: Service) -> bytes | None:
    url = _field(parsed.fields, "bg_image_url")
    if parsed.bg_image_file is not None and url:
        raise error(ErrorCode.CONFLICTING_INPUT, "Give only one of bg_image_file and bg_image_url.")
    if parsed.bg_image_file is not None:
        return parsed.bg_image_file
    return fetch(url, service.settings.sources) if url else None


def remove_background(parsed: RemoveBgRequest, service: Service, wants_json: bool) -> Response:
    """The work, off the event loop: validate, read the inputs, run the core, shape the answer."""
    has_background = parsed.bg_image_file is not None or bool(_field(parsed.fields, "bg_image_url"))
    # every field is checked before anything is fetched (b"" stands for the background image)
    spec = parse_removebg_spec(parsed.fields, b"" if has_background else None)
    service.require_ready()
    data = _image_bytes(parsed, service)
    if spec.type is OutputType.BACKGROUND and has_background:
        spec = parse_removebg_spec(parsed.fields, _background_bytes(parsed, service))
    output = service.process(data, spec)
    if output.foreground is None:  # an empty matte: remove.bg answers 400, not a blank image
        raise error(ErrorCode.UNKNOWN_FOREGROUND)
    left, top, width, height = output.foreground
    headers = {
        "X-Type": "person",
        "X-Width": str(output.width),
        "X-Height": str(output.height),
        "X-Credits-Charged": "0",
        "X-Foreground-Top": str(top),
        "X-Foreground-Left": str(left),
        "X-Foreground-Width": str(width),
        "X-Foreground-Height": str(height),
        **confidence_header(output),
    }
    if wants_json:
        body: dict[str, Any] = {
            "result_b64": base64.b64encode(output.data).decode(),
            "foreground_top": top,
            "foreground_left": left,
            "foreground_width": width,
            "foreground_height": height,
        }
        if output.confidence is not None:  # an extension: remove.bg has no such field
            body["confidence"] = round(output.confidence, 3)
        return Response(json.dumps({"data": body}), media_type="application/json", headers=headers)
    return Response(output.data, media_type=output.media_type, headers=headers)


_FORM_SCHEMA = {
    "type": "object",
    "properties": {
        "image_file": {"type": "string", "format": "binary", "description": "The photo."},
        "image_file_b64": {"type": "string", "description": "The photo, base64."},
        "image_url": {"type": "string", "description": "The photo's http(s) or s3 address."},
        "size": {
            "type": "string",
            "enum": ["preview", "small", "regular", "medium", "hd", "full", "4k", "auto"],
            "default": "preview",
            "description": "preview/small/regular: at most 0.25 MP; medium 1.5 MP; hd 4 MP; "
            "full/4k/auto: the input's size.",
        },
        "type": {"type": "string", "enum": sorted(TYPES), "default": "auto"},
        "format": {
            "type": "string",
            "enum": ["auto", "png", "jpg", "webp", "zip"],
            "default": "auto",
            "description": "auto: PNG when the result has transparency, else JPEG. zip: "
            "color.jpg + alpha.png.",
        },
        "channels": {"type": "string", "enum": ["rgba", "alpha"], "default": "rgba"},
        "bg_color": {"type": "string", "description": "Hex (81d4fa, fff, 81d4fa77) or a name."},
        "bg_image_url": {"type": "string"},
        "bg_image_file": {"type": "string", "format": "binary"},
        "crop": {"type": "boolean", "default": False},
        "crop_margin": {"type": "string", "description": "e.g. 30px, 10%, or 10px 20px."},
        "scale": {"type": "string", "description": "original, or 10% to 100%."},
        "position": {"type": "string", "description": "original, center, or 'x% y%'."},
    },
}


@router.post(
    PATH,
    summary="Remove the background (remove.bg-compatible)",
    description=(
        "Drop-in for remove.bg's `POST /v1.0/removebg`: the same form fields, the image bytes "
        "back with `X-Type`, `X-Width`, `X-Height` (or JSON with `Accept: application/json`), "
        'errors as `{"errors": [{"title", "code"}]}`. Send the key as `X-Api-Key` (or '
        "`Authorization: Bearer`) when the server requires one."
    ),
    responses={
        200: {
            "description": "The image (PNG, JPEG, WebP or ZIP), or JSON when asked for.",
            "content": {"image/png": {}, "image/jpeg": {}, "application/zip": {}},
        },
        400: {
            "description": "Invalid parameters, or `unknown_foreground`: no person was found "
            "in the photo (`errors[0].code` says which)."
        },
        **{
            status: {"description": f"{meaning} (`errors[0].code` says which)."}
            for status, meaning in (
                (401, "No API key"),
                (403, "Wrong API key"),
                (413, "Body, image or download too large"),
                (415, "Not a JPEG, PNG or BMP image"),
                (422, "The image cannot be decoded"),
                (502, "The image url or S3 failed"),
                (503, "Overloaded or the model is not ready; see Retry-After"),
                (504, "The image url or the request took too long"),
            )
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": _FORM_SCHEMA},
                "application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA},
                "application/json": {"schema": _FORM_SCHEMA},
            },
        }
    },
)
async def removebg(request: Request) -> Response:
    service: Service = request.app.state.service
    # the key was checked before the body (AuthMiddleware); admitted once the body is complete
    parsed = await service.receive(lambda: read_request(request))
    wants_json = "application/json" in request.headers.get("accept", "").lower()
    return await service.run(remove_background, parsed, service, wants_json)
