"""SageMaker-style endpoints: ``GET /ping`` and ``POST /invocations`` (the seed's JSON body)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from humanseg.api import seed
from humanseg.api.schemas import SeedResponse
from humanseg.api.service import Service

router = APIRouter(tags=["sagemaker"])


@router.get("/ping", summary="SageMaker health check: 200 once the model is ready")
async def ping(request: Request) -> JSONResponse:
    service: Service = request.app.state.service
    return JSONResponse(service.readiness(), status_code=200 if service.ready else 503)


@router.post(
    "/invocations",
    summary="SageMaker inference: the body and answer of POST /human_image_segmentation",
    response_model=SeedResponse,
    responses=seed._error_responses(400, 401, 403, 413, 415, 422, 502, 503, 504),
)
async def invocations(request: Request) -> Response:
    service: Service = request.app.state.service
    body = await service.receive(request.body)  # admitted to the work queue once complete
    result, headers = await service.run(seed.segment_with_headers, body, service)
    return Response(result, media_type="application/json", headers=headers)
