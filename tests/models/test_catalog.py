"""The catalog is data: every entry is complete, and licences other than Apache/MIT are opt-in."""

from __future__ import annotations

import re

import pytest

from humanseg.models.catalog import (
    CATALOG,
    WHEEL_PLATFORM,
    NpmTarball,
    PipWheelMember,
    UrlSource,
    get_spec,
)
from humanseg.models.presets import PRESETS, model_specs

REQUIRED = {"selfie", "selfie-landscape", "modnet", "u2netp", "isnet"}
URL_ONLY = {"birefnet-portrait", "u2net_human_seg"}


def test_required_models_are_there() -> None:
    assert set(CATALOG) >= REQUIRED | URL_ONLY


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_entry_is_complete(name: str) -> None:
    spec = CATALOG[name]
    assert spec.sources and spec.filename and spec.description
    if spec.sha256:
        assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256)
    else:
        assert spec.md5 and re.fullmatch(r"[0-9a-f]{32}", spec.md5)
    assert spec.runtime == ("litert" if spec.filename.endswith(".tflite") else "onnx")
    if spec.license not in ("Apache-2.0", "MIT"):
        assert spec.opt_in, f"{name} is {spec.license}: it must be opt-in"
    for source in spec.sources:
        if isinstance(source, PipWheelMember):
            assert source.platform == WHEEL_PLATFORM  # the member's hash must not vary


def test_source_kinds() -> None:
    isnet = get_spec("isnet")
    assert isnet.opt_in and isnet.license == "AGPL-3.0"
    assert isinstance(isnet.sources[0], NpmTarball)
    for name in URL_ONLY:
        spec = get_spec(name)
        assert isinstance(spec.sources[0], UrlSource) and spec.sources[0].url.startswith("https://")
        assert spec.md5 and not spec.sha256  # the publisher gives only an MD5
    for name in REQUIRED - {"isnet"}:
        assert isinstance(get_spec(name).sources[0], PipWheelMember)


def test_pipelines_use_catalog_models_without_opt_in() -> None:
    for name in PRESETS:
        specs = model_specs(name)
        assert specs and not any(spec.opt_in for spec in specs)
