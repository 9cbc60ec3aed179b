"""``GET /v1/models`` and ``GET /v1/types``: what a request may name, for clients and forms.

The types, formats and ID sizes come from the request schema (``humanseg.schema``), so a form
built from this answer (the playground's) offers exactly what the endpoint accepts.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from humanseg.api.service import Service
from humanseg.models.catalog import CATALOG
from humanseg.models.presets import (
    PRESETS,
    model_availability,
    model_specs,
    segmentation_models,
)
from humanseg.outputs import ID_PRESETS
from humanseg.schema import FORMATS, ID_COLOR_NAMES, TYPES, type_value

router = APIRouter(tags=["catalog"])


class ModelEntry(BaseModel):
    name: str
    kind: Literal["pipeline", "model"] = Field(
        description="`pipeline`: several models fused; `model`: one model."
    )
    served: bool = Field(description="Whether this server runs it (the operator's choice).")
    available: bool = Field(
        description="Whether its runtime is installed and its file is here or can be pulled."
    )
    reason: str | None = Field(None, description="When not available: what it needs.")
    license: str
    person_specific: bool
    runtime: str
    opt_in: bool = Field(description="Whether its licence asks the operator to opt in.")
    description: str
    models: list[str] | None = Field(None, description="A pipeline's models.")


class ModelCatalog(BaseModel):
    default: str = Field(description="The model a request without `model` gets.")
    models: list[ModelEntry]


class TypeEntry(BaseModel):
    value: str = Field(description="What `type` takes (empty for the alpha matte).")
    name: str
    title: str
    description: str
    options: list[str] = Field(description="The request fields that shape this type.")
    transparent: bool = Field(
        description="The result has transparency (no JPEG) unless an opaque `bg_color` fills it."
    )
    same_size: bool = Field(description="The result has the photo's width and height.")


class FormatEntry(BaseModel):
    value: str
    title: str
    media_type: str
    extension: str


class IdPresetEntry(BaseModel):
    value: str
    title: str
    print_size: str = Field(description="The printed photo's size, e.g. `35 × 45 mm`.")
    width: int
    height: int
    dpi: int


class TypeCatalog(BaseModel):
    types: list[TypeEntry]
    formats: list[FormatEntry]
    id_presets: list[IdPresetEntry]
    id_colors: list[str] = Field(description="Named `bg_color` values of an ID photo.")


def _availability(service: Service, name: str) -> dict[str, object]:
    """``available``, and when false the ``reason``: what the model needs to run here."""
    state = model_availability(
        name, service.pipeline.registry.store, service.settings.pipeline.onnx_engine
    )
    return {"available": True} if state.available else {"available": False, "reason": state.reason}


def _pipeline_entry(service: Service, name: str) -> ModelEntry:
    specs = model_specs(name)
    return ModelEntry(
        name=name,
        kind="pipeline",
        served=name in service.served,
        **_availability(service, name),
        license=" AND ".join(sorted({spec.license for spec in specs})),
        person_specific=True,
        runtime="+".join(sorted({spec.runtime for spec in specs})),
        opt_in=any(spec.opt_in for spec in specs),
        description=PRESETS[name].description,
        models=[spec.name for spec in specs],
    )


def _model_entry(service: Service, name: str) -> ModelEntry:
    spec = CATALOG[name]
    return ModelEntry(
        name=spec.name,
        kind="model",
        served=spec.name in service.served,
        **_availability(service, spec.name),
        license=spec.license,
        person_specific=spec.person_specific,
        runtime=spec.runtime,
        opt_in=spec.opt_in,
        description=spec.description,
    )


@router.get(
    "/v1/models",
    summary="The models and pipelines a request may name",
    response_model=ModelCatalog,
    response_model_exclude_none=True,
)
async def models(request: Request) -> ModelCatalog:
    """Every model and pipeline: ``served`` (the operator's choice), ``available`` (its
    runtime is installed and its file is here or can be pulled) and, when not available,
    ``reason``: what it needs (a package to install, a file to place)."""
    service: Service = request.app.state.service
    return ModelCatalog(
        default=service.settings.pipeline.model,
        models=[_pipeline_entry(service, name) for name in PRESETS]
        + [_model_entry(service, name) for name in segmentation_models()],
    )


@router.get(
    "/v1/types",
    summary="The output types `type` may name, the formats and the ID photo sizes",
    response_model=TypeCatalog,
)
async def types() -> TypeCatalog:
    return TypeCatalog(
        types=[
            TypeEntry(value=type_value(kind), name=kind.value, **asdict(info))
            for kind, info in TYPES.items()
        ],
        formats=[FormatEntry(value=fmt.value, **asdict(info)) for fmt, info in FORMATS.items()],
        id_presets=[
            IdPresetEntry(
                value=preset.name,
                title=preset.title,
                print_size=preset.print_size,
                width=preset.size[0],
                height=preset.size[1],
                dpi=preset.dpi,
            )
            for preset in ID_PRESETS.values()
        ],
        id_colors=list(ID_COLOR_NAMES),
    )
