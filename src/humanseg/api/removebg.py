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
from dataclasses import dataclass
from typing import Any

import pybase64 as base64
from fastapi import APIRouter, Request, Response

from humanseg.api.bodies import json_or_form
from humanseg.api.removebg_form import RemoveBgForm, form_schema
from humanseg.api.service import Service, confidence_header
from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.outputs import OutputType
from humanseg.schema import validate_request
from humanseg.settings import Settings
from humanseg.sources import decode_base64, fetch

PATH = "/v1.0/removebg"

router = APIRouter(tags=["remove.bg compatible"])


def error_body(exc: HumansegError) -> dict[str, Any]:
    """remove.bg's error shape; the app renders every error under ``PATH`` with it."""
    return {"errors": [{"title": exc.message, "code": exc.code.value}]}


@dataclass(frozen=True)
class RemoveBgRequest:
    """The form fields as sent, plus the image and background files' bytes."""

    fields: dict[str, str]
    image_file: bytes | None
    bg_image_file: bytes | None


def parse_form(fields: dict[str, str], settings: Settings) -> RemoveBgForm:
    """The fields, validated whole: a bad value of any of them is an error before any fetch."""
    return validate_request(RemoveBgForm, fields, settings, code=ErrorCode.INVALID_PARAMETER)


async def read_request(request: Request) -> RemoveBgRequest:
    fields, files = await json_or_form(
        request,
        max_files=2,
        max_fields=64,
        not_a_form="The body must be multipart/form-data, application/x-www-form-urlencoded "
        "or JSON.",
    )
    text = {k: _as_text(k, v) for k, v in fields.items() if v is not None}  # JSON: any scalar
    return RemoveBgRequest(text, files.get("image_file"), files.get("bg_image_file"))


def _as_text(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise error(
            ErrorCode.INVALID_PARAMETER, f"`{name[:50]}` must be a string, number or boolean."
        )
    return str(value)


def _image_bytes(parsed: RemoveBgRequest, form: RemoveBgForm, service: Service) -> bytes:
    sources = [
        name
        for name, present in (
            ("image_file", parsed.image_file is not None),
            ("image_file_b64", bool(form.image_file_b64 and form.image_file_b64.strip())),
            ("image_url", bool(form.image_url)),
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
    if form.image_file_b64:
        return decode_base64(form.image_file_b64, field="image_file_b64")
    assert form.image_url is not None
    return fetch(form.image_url, service.settings.sources)


def _background_bytes(parsed: RemoveBgRequest, form: RemoveBgForm, service: Service) -> bytes:
    if parsed.bg_image_file is not None and form.bg_image_url:
        raise error(ErrorCode.CONFLICTING_INPUT, "Give only one of bg_image_file and bg_image_url.")
    if parsed.bg_image_file is not None:
        return parsed.bg_image_file
    assert form.bg_image_url is not None
    return fetch(form.bg_image_url, service.settings.sources)


def remove_background(parsed: RemoveBgRequest, service: Service, wants_json: bool) -> Response:
    """The work, off the event loop: validate, read the inputs, run the core, shape the answer."""
    form = parse_form(parsed.fields, service.settings)
    has_background = parsed.bg_image_file is not None or bool(form.bg_image_url)
    spec = form.output_spec(background_image=has_background)  # every field, before any fetch
    service.require_ready()
    data = _image_bytes(parsed, form, service)
    if spec.type is OutputType.BACKGROUND and has_background:
        spec = spec.with_background(_background_bytes(parsed, form, service))
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


_FORM_SCHEMA = form_schema()


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
