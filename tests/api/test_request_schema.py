"""The OpenAPI document and ``GET /v1/types`` list what the endpoints accept, from one schema.

The app runs in-process (no model is needed: nothing here segments an image).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from humanseg.api import removebg
from humanseg.api.removebg_form import CHANNELS, FOREGROUND_TYPES, FORMATS, SIZES, RemoveBgForm
from humanseg.outputs import ID_PRESETS
from humanseg.schema import FORMAT_VALUES, ID_PRESET_VALUES, TYPE_VALUES, TYPES, type_value
from humanseg.settings import AccessSettings, Settings
from humanseg.sources import base64_limit


def _get(*paths: str) -> list[Any]:
    from humanseg.api.app import create_app

    app = create_app(Settings())

    async def fetch() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [(await client.get(path)).json() for path in paths]

    return asyncio.run(fetch())


@pytest.fixture(scope="module")
def answers() -> dict[str, Any]:
    openapi, types = _get("/openapi.json", "/v1/types")
    return {"openapi": openapi, "types": types}


def _enum(schema: dict[str, Any]) -> set[str]:
    """The values a property's schema lists, wherever its enum sits (plain or in anyOf)."""
    values = set(schema.get("enum", []))
    for option in schema.get("anyOf", []):
        values |= set(option.get("enum", []))
    return values


def test_openapi_lists_every_value_the_seed_accepts(answers: dict[str, Any]) -> None:
    schemas = answers["openapi"]["components"]["schemas"]
    for model in ("SeedRequest", "SegmentationRequest"):
        assert _enum(schemas[model]["properties"]["type"]) == set(TYPE_VALUES), model
    fields = schemas["SegmentationRequest"]["properties"]
    assert _enum(fields["format"]) == set(FORMAT_VALUES) >= {"png", "webp", "jpeg", "jpg"}
    assert _enum(fields["id_preset"]) == set(ID_PRESET_VALUES) >= set(ID_PRESETS)
    assert {"img", "url", "bg_img", "bg_url", "model", "bg_color", "blur_strength"} <= set(fields)


def test_openapi_lists_every_value_remove_bg_accepts(answers: dict[str, Any]) -> None:
    operation = answers["openapi"]["paths"][removebg.PATH]["post"]
    for media_type, content in operation["requestBody"]["content"].items():
        fields = content["schema"]["properties"]
        assert _enum(fields["size"]) == set(SIZES) and "50mp" in SIZES, media_type
        assert _enum(fields["format"]) == set(FORMATS) >= {"auto", "png", "jpg", "jpeg", "zip"}
        assert _enum(fields["type"]) == set(FOREGROUND_TYPES)
        assert _enum(fields["channels"]) == set(CHANNELS)
        assert fields["image_file"]["format"] == "binary"
    context = base64_limit(AccessSettings())
    for name, values in (
        ("size", SIZES),
        ("format", FORMATS),
        ("type", FOREGROUND_TYPES),
        ("channels", CHANNELS),
    ):
        for value in values:
            form = RemoveBgForm.model_validate({name: value.upper()}, context=context)
            assert getattr(form, name) == value
            form.output_spec(background_image=False)


def test_types_and_models_are_typed_in_openapi(answers: dict[str, Any]) -> None:
    paths = answers["openapi"]["paths"]
    for path, model in (("/v1/types", "TypeCatalog"), ("/v1/models", "ModelCatalog")):
        schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith(model), path


def test_v1_types_comes_from_the_schema(answers: dict[str, Any]) -> None:
    catalog = answers["types"]
    assert [entry["value"] for entry in catalog["types"]] == [type_value(kind) for kind in TYPES]
    for entry, info in zip(catalog["types"], TYPES.values(), strict=True):
        assert entry["title"] == info.title and entry["description"] == info.description
        assert entry["transparent"] is info.transparent and entry["same_size"] is info.same_size
    assert [entry["value"] for entry in catalog["formats"]] == ["png", "webp", "jpeg"]
    assert [entry["value"] for entry in catalog["id_presets"]] == list(ID_PRESETS)
    assert catalog["id_colors"][0] == "white"


def test_the_docs_examples_are_valid_requests() -> None:
    from humanseg.api.examples import SEED_REQUEST_EXAMPLES
    from humanseg.api.schemas import SegmentationRequest

    context = base64_limit(AccessSettings())
    for name, example in SEED_REQUEST_EXAMPLES.items():
        request = SegmentationRequest.model_validate(example["value"], context=context)
        request.output_spec(background_image=request.background_given)  # no error: valid
        assert request.img or request.url, name
