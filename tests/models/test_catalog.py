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


def test_pipelines_with_an_opt_in_model_are_opt_in_and_say_so() -> None:
    for name, preset in PRESETS.items():
        specs = model_specs(name)
        opt_in = [spec for spec in specs if spec.opt_in]
        assert specs and preset.opt_in == bool(opt_in)
        for spec in opt_in:  # named for the model, and its licence in the description
            assert spec.name in name and spec.license in preset.description
    assert not PRESETS["auto"].opt_in and not PRESETS["quality"].opt_in


def test_rvm_is_gpl_and_opt_in() -> None:
    rvm = get_spec("rvm")
    assert rvm.opt_in and rvm.license == "GPL-3.0" and rvm.extra_inputs is not None
    feeds = rvm.extra_inputs.feeds(1280, 720)
    assert set(feeds) == {"r1i", "r2i", "r3i", "r4i", "downsample_ratio"}
    assert feeds["r1i"].shape == (1, 1, 1, 1) and not feeds["r1i"].any()
    assert feeds["downsample_ratio"].tolist() == [pytest.approx(384 / 1280)]
    assert rvm.extra_inputs.feeds(200, 100)["downsample_ratio"].tolist() == [1.0]  # never up
