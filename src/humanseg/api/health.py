"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the default model is loaded and warmed up",
    responses={503: {"description": "Still loading, or the model failed to load."}},
)
async def readyz(request: Request) -> JSONResponse:
    service = request.app.state.service
    return JSONResponse(service.readiness(), status_code=200 if service.ready else 503)
