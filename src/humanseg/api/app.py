"""The FastAPI application: thin adapters over the core pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from humanseg import __version__, allocator
from humanseg.api import (
    catalog,
    docs,
    health,
    metrics,
    playground,
    removebg,
    sagemaker,
    seed,
    video_jobs,
)
from humanseg.api.auth import AuthMiddleware, load_api_keys, openapi_security
from humanseg.api.browser import BrowserGuardMiddleware
from humanseg.api.errors import BodyLimitMiddleware, ErrorRenderer, install_error_handlers
from humanseg.api.observability import ObservabilityMiddleware
from humanseg.api.schemas import SeedRequest, SegmentationRequest
from humanseg.api.service import Service
from humanseg.settings import Settings

DESCRIPTION = """
Self-hosted human image segmentation. Send a photo, get the person's alpha matte or a
cut-out with a transparent background. Compatible with the `human_image_segmentation` API.

Every error is JSON: `{"error": {"code": "<stable_code>", "message": "<sentence>"}}`.
"""


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> FastAPI:
    """The app; ``settings`` default to the service's, else to ``HUMANSEG_*`` read here."""
    settings = settings or (service.settings if service else Settings())
    service = service or Service(settings)
    api_keys = load_api_keys(settings.access)
    jobs = video_jobs.VideoJobs()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # this process now serves: keep each request's freed arrays for the next (see allocator)
        allocator.tune_process("server")
        if not service.ready:
            service.start_loading()
        jobs.start(service)
        yield
        jobs.shutdown()  # running video jobs stop at their next frame, resumed at next start
        service.shutdown()  # the server has stopped taking requests; let running work end

    app = FastAPI(
        title="humanseg",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        docs_url=None,  # served by api/docs.py from local assets
        redoc_url=None,
    )
    app.state.service = service
    app.state.video_jobs = jobs
    # humanseg's error shape everywhere but under the remove.bg-compatible path, which has its own
    render = ErrorRenderer({removebg.PATH: removebg.error_body})
    app.state.error_renderer = render
    install_error_handlers(app, render)
    # outermost last: request id and metrics see everything, auth runs before any body read
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.access.max_body_bytes, render=render)
    if api_keys is not None:
        # the one key check, for every route (remove.bg's included)
        app.add_middleware(AuthMiddleware, keys=api_keys, render=render)
    app.add_middleware(
        BrowserGuardMiddleware, allowed_hosts=settings.access.allowed_hosts, render=render
    )
    app.add_middleware(ObservabilityMiddleware)
    app.include_router(seed.router)
    app.include_router(removebg.router)
    app.include_router(health.router)
    app.include_router(sagemaker.router)
    app.include_router(metrics.router)
    app.include_router(catalog.router)
    app.include_router(video_jobs.router)
    docs.install(app)
    playground.install(app)
    _register_request_schema(app, secured=api_keys is not None)
    return app


def _register_request_schema(app: FastAPI, *, secured: bool = False) -> None:
    """The seed route reads its body itself (any content type); publish its schema anyway."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (SeedRequest, SegmentationRequest):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        if secured:
            openapi_security(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
