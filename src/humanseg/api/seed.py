"""``POST /human_image_segmentation``: the seed-compatible endpoint."""

from __future__ import annotations

import orjson
import pybase64 as base64
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from humanseg.api.examples import SEED_REQUEST_EXAMPLES
from humanseg.api.http_errors import codes_with_status
from humanseg.api.schemas import ErrorResponse, SeedResponse, SegmentationRequest
from humanseg.api.service import Service, confidence_header
from humanseg.errors import ErrorCode, error
from humanseg.pipeline import OutputSpec, OutputType, parse_output_spec, parse_output_type
from humanseg.sources import decode_base64, fetch

router = APIRouter(tags=["segmentation"])
# Which model or pipeline made the result (the body stays exactly the seed's).
MODEL_HEADER = "X-Humanseg-Model"


def _error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    responses: dict[int | str, dict[str, object]] = {}
    for status in statuses:
        codes = codes_with_status(status)
        responses[status] = {
            "model": ErrorResponse,
            "description": "Error codes: " + ", ".join(f"`{code.value}`" for code in codes),
        }
    return responses


def parse_seed_request(body: bytes) -> SegmentationRequest:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise error(ErrorCode.INVALID_JSON, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise error(ErrorCode.INVALID_JSON, "The request body must be a JSON object.")
    try:
        return SegmentationRequest.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise error(ErrorCode.INVALID_REQUEST, f"Field `{field}`: {first['msg']}.") from None


def read_input(request: SegmentationRequest, service: Service) -> bytes:
    if request.img and request.url:
        raise error(ErrorCode.CONFLICTING_INPUT, "`url` and `img` cannot be used at the same time.")
    if request.img:
        return decode_base64(request.img, max_chars=service.settings.access.max_base64_chars)
    if request.url:
        return fetch(request.url, service.settings.sources)
    raise error(ErrorCode.MISSING_INPUT, "Give the image as `img` (base64) or `url`.")


def read_background(request: SegmentationRequest, service: Service) -> bytes | None:
    if request.bg_img and request.bg_url:
        raise error(
            ErrorCode.CONFLICTING_INPUT, "`bg_img` and `bg_url` cannot be used at the same time."
        )
    if request.bg_img:
        return decode_base64(
            request.bg_img, field="bg_img", max_chars=service.settings.access.max_base64_chars
        )
    if request.bg_url:
        return fetch(request.bg_url, service.settings.sources)
    return None


def output_spec(request: SegmentationRequest, background: bytes | None) -> OutputSpec:
    return parse_output_spec(
        request.type,
        format=request.format,
        bg_color=request.bg_color,
        bg_image=background,
        blur_strength=request.blur_strength,
        crop_margin=request.crop_margin,
        id_preset=request.id_preset,
        refine=request.refine,
    )


def segment(body: bytes, service: Service) -> bytes:
    """The whole request, off the event loop: parse, read the image, run the core, encode."""
    return segment_with_headers(body, service)[0]


def segment_with_headers(body: bytes, service: Service) -> tuple[bytes, dict[str, str]]:
    """``segment``, and the response headers: the model that made the result, its confidence."""
    request = parse_seed_request(body)
    parse_output_type(request.type)
    needs_background = request.type == OutputType.BACKGROUND and (request.bg_img or request.bg_url)
    output_spec(request, b"" if needs_background else None)  # bad fields fail before any fetch
    if request.model:
        service.check_served(request.model)  # a 400 before any download or model load
    service.require_ready()
    data = read_input(request, service)
    background = read_background(request, service) if needs_background else None
    output = service.process(data, output_spec(request, background), model=request.model or None)
    headers = {
        MODEL_HEADER: request.model or service.settings.pipeline.model,
        **confidence_header(output),
    }
    return b'{"result":"' + base64.b64encode(output.data) + b'"}', headers


@router.post(
    "/human_image_segmentation",
    summary="Segment the person in a photo",
    description=(
        "Send one image as `img` (base64) or `url` (`http(s)://` or `s3://bucket/key`). "
        'Returns `{"result": base64 image}`: the alpha matte by default, or with '
        '`"type": "foreground"` the photo with a transparent background, both PNG at the '
        "input's width and height. More types: `mask`, `background` (new colour or image), "
        "`blur` (portrait mode), `crop` (tight crop with a margin) and `id_photo` (preset "
        "sizes, head placed by the preset's rules); `format` picks png, webp or jpeg. "
        "Accepted formats: JPEG, PNG, BMP; longest side ≤ 4096 px."
    ),
    response_model=SeedResponse,
    responses=_error_responses(400, 401, 403, 413, 415, 422, 502, 503, 504),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/SegmentationRequest"},
                    "examples": SEED_REQUEST_EXAMPLES,
                }
            },
        }
    },
)
async def human_image_segmentation(request: Request) -> Response:
    service: Service = request.app.state.service
    body = await service.receive(request.body)  # admitted to the work queue once complete
    result, headers = await service.run(segment_with_headers, body, service)
    return Response(result, media_type="application/json", headers=headers)
