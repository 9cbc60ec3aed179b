"""The web playground at ``/`` (static files shipped in the package) and what it reads."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from humanseg.api.service import Service
from humanseg.models.catalog import CATALOG
from humanseg.models.presets import (
    PRESETS,
    model_availability,
    model_specs,
    segmentation_models,
)
from humanseg.pipeline import OutputType

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter()

_TYPE_DESCRIPTIONS = {
    OutputType.ALPHA: "The alpha matte: an 8-bit grayscale PNG, 255 = person.",
    OutputType.FOREGROUND: "The photo as an RGBA PNG with a transparent background.",
    OutputType.MASK: "A binary mask: grayscale PNG with only 0 and 255.",
    OutputType.BACKGROUND: "The person on a new background: needs `bg_color`, `bg_img` or "
    "`bg_url`.",
    OutputType.BLUR: "Portrait mode: the background blurred (`blur_strength` 0-1).",
    OutputType.CROP: "The cut-out cropped to the person (`crop_margin`).",
    OutputType.ID_PHOTO: "An ID photo (`id_preset`, `bg_color`); needs exactly one face.",
}


@router.get("/", include_in_schema=False)
async def playground() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def _pipeline_entry(name: str) -> dict[str, object]:
    specs = model_specs(name)
    return {
        "name": name,
        "kind": "pipeline",
        "license": " AND ".join(sorted({spec.license for spec in specs})),
        "person_specific": True,
        "runtime": "+".join(sorted({spec.runtime for spec in specs})),
        "opt_in": any(spec.opt_in for spec in specs),
        "description": PRESETS[name].description,
        "models": [spec.name for spec in specs],
    }


def _availability(service: Service, name: str) -> dict[str, object]:
    """``available``, and when false the ``reason``: what the model needs to run here."""
    state = model_availability(
        name, service.pipeline.registry.store, service.settings.pipeline.onnx_engine
    )
    return {"available": True} if state.available else {"available": False, "reason": state.reason}


@router.get("/v1/models", tags=["catalog"], summary="The models and pipelines a request may name")
async def models(request: Request) -> dict[str, object]:
    """Every model and pipeline: ``served`` (the operator's choice), ``available`` (its
    runtime is installed and its file is here or can be pulled) and, when not available,
    ``reason``: what it needs (a package to install, a file to place)."""
    service: Service = request.app.state.service
    singles = [CATALOG[name] for name in segmentation_models()]
    return {
        "default": service.settings.pipeline.model,
        "models": [
            {
                **_pipeline_entry(name),
                "served": name in service.served,
                **_availability(service, name),
            }
            for name in PRESETS
        ]
        + [
            {
                "name": spec.name,
                "served": spec.name in service.served,
                **_availability(service, spec.name),
                "kind": "model",
                "license": spec.license,
                "person_specific": spec.person_specific,
                "runtime": spec.runtime,
                "opt_in": spec.opt_in,
                "description": spec.description,
            }
            for spec in singles
        ],
    }


@router.get("/v1/types", tags=["catalog"], summary="The output types `type` may name")
async def types() -> dict[str, object]:
    return {
        "types": [
            {
                "value": "" if kind is OutputType.ALPHA else kind.value,
                "name": kind.value,
                "description": _TYPE_DESCRIPTIONS.get(kind, ""),
            }
            for kind in OutputType
        ]
    }


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
