"""``POST /human_image_segmentation``: the seed-compatible endpoint."""

from __future__ import annotations

import pybase64 as base64
from fastapi import APIRouter, Request, Response

from humanseg.api.bodies import json_object
from humanseg.api.examples import SEED_REQUEST_EXAMPLES
from humanseg.api.http_errors import codes_with_status
from humanseg.api.schemas import ErrorResponse, SeedResponse, SegmentationRequest
from humanseg.api.service import Service, confidence_header
from humanseg.errors import ErrorCode, error
from humanseg.outputs import OutputType
from humanseg.schema import TYPES, type_value, validate_request
from humanseg.settings import Settings
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


def parse_seed_request(body: bytes, settings: Settings) -> SegmentationRequest:
    """The body, validated whole: a bad value of any field is an error before any fetch."""
    return validate_request(
        SegmentationRequest, json_object(body), settings, code=ErrorCode.INVALID_REQUEST
    )


def read_input(request: SegmentationRequest, service: Service) -> bytes:
    if request.img and request.url:
        raise error(ErrorCode.CONFLICTING_INPUT, "`url` and `img` cannot be used at the same time.")
    if request.img:
        return decode_base64(request.img)
    if request.url:
        return fetch(request.url, service.settings.sources)
    raise error(ErrorCode.MISSING_INPUT, "Give the image as `img` (base64) or `url`.")


def read_background(request: SegmentationRequest, service: Service) -> bytes | None:
    if request.bg_img and request.bg_url:
        raise error(
            ErrorCode.CONFLICTING_INPUT, "`bg_img` and `bg_url` cannot be used at the same time."
        )
    if request.bg_img:
        return decode_base64(request.bg_img, field="bg_img")
    if request.bg_url:
        return fetch(request.bg_url, service.settings.sources)
    return None


def segment(body: bytes, service: Service) -> bytes:
    """The whole request, off the event loop: parse, read the image, run the core, encode."""
    return segment_with_headers(body, service)[0]


def segment_with_headers(body: bytes, service: Service) -> tuple[bytes, dict[str, str]]:
    """``segment``, and the response headers: the model that made the result, its confidence."""
    request = parse_seed_request(body, service.settings)
    spec = request.output_spec(background_image=request.background_given)
    if request.model:
        service.check_served(request.model)  # a 400 before any download or model load
    service.require_ready()
    data = read_input(request, service)
    if spec.type is OutputType.BACKGROUND and request.background_given:
        spec = spec.with_background(read_background(request, service))
    output = service.process(data, spec, model=request.model or None)
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
        "input's width and height. More types (`GET /v1/types`): "
        + ", ".join(
            f"`{type_value(kind)}`"
            for kind in TYPES
            if kind not in (OutputType.ALPHA, OutputType.FOREGROUND)
        )
        + " (see the `type` field); `format` picks png, webp or jpeg. "
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
