"""The request schema: one definition of the output fields, their values and their errors."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest
from pydantic import BaseModel

from humanseg.errors import ErrorCode, HumansegError
from humanseg.outputs import (
    FORMAT_ALIASES,
    ID_PRESET_ALIASES,
    ID_PRESETS,
    ImageFormat,
    Margin,
    OutputSpec,
    OutputType,
)
from humanseg.schema import (
    FORMAT_VALUES,
    FORMATS,
    ID_PRESET_VALUES,
    TYPE_VALUES,
    TYPES,
    FormatName,
    IdPresetName,
    OutputOptions,
    OutputTypeName,
    parse_output_spec,
)
from humanseg.settings import AccessSettings
from humanseg.sources import Base64Text, base64_limit


def test_the_typing_names_are_the_enums_values() -> None:
    assert set(get_args(OutputTypeName)) == set(TYPE_VALUES)
    assert set(get_args(FormatName)) == {fmt.value for fmt in FORMATS}
    assert set(get_args(IdPresetName)) == set(ID_PRESETS)
    assert set(TYPES) == set(OutputType)
    assert set(FORMAT_VALUES) == {fmt.value for fmt in FORMATS} | set(FORMAT_ALIASES)
    assert set(ID_PRESET_VALUES) == set(ID_PRESETS) | set(ID_PRESET_ALIASES)


def test_every_listed_value_is_accepted() -> None:
    for value in TYPE_VALUES:
        kind = OutputOptions(type=value, bg_color="#fff").output_spec().type  # type: ignore[arg-type]
        assert kind.value == (value or "alpha")
    for value in FORMAT_VALUES:
        spec = OutputOptions(format=value).output_spec()  # type: ignore[arg-type]
        assert spec.format is (
            FORMAT_ALIASES[value] if value in FORMAT_ALIASES else ImageFormat(value)
        )
    for value in ID_PRESET_VALUES:
        spec = OutputOptions(type="id_photo", id_preset=value).output_spec()  # type: ignore[arg-type]
        assert spec.id_preset is ID_PRESETS[ID_PRESET_ALIASES.get(value, value)]
    assert OutputOptions(format="JPG").format == "jpeg"  # any case
    assert OutputOptions(id_preset="Passport").id_preset == "passport"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"type": "Foreground"}, ErrorCode.INVALID_TYPE),
        ({"type": 5}, None),  # not a string: the field's type check, a plain validation error
        ({"format": "gif"}, ErrorCode.INVALID_FORMAT),
        ({"format": "zip"}, ErrorCode.INVALID_FORMAT),
        ({"id_preset": "a4"}, ErrorCode.INVALID_ID_PRESET),
        ({"type": "foreground", "format": "jpeg"}, ErrorCode.INVALID_FORMAT),
        ({"type": "background"}, ErrorCode.MISSING_BACKGROUND),
        ({"type": "id_photo", "bg_color": "#ffffff80"}, ErrorCode.INVALID_COLOR),
        ({"bg_color": "nope"}, ErrorCode.INVALID_COLOR),
        ({"crop_margin": "5 apples"}, ErrorCode.INVALID_MARGIN),
    ],
)
def test_each_bad_value_has_its_own_code(fields: dict, code: ErrorCode | None) -> None:
    if code is None:
        with pytest.raises(ValueError):  # pydantic's ValidationError: the front end's 400
            OutputOptions.model_validate(fields).output_spec()
        return
    with pytest.raises(HumansegError) as caught:
        OutputOptions.model_validate(fields).output_spec()
    assert caught.value.code is code


def test_a_background_image_to_come_counts_for_the_checks() -> None:
    options = OutputOptions.model_validate({"type": "background", "format": "jpeg"})
    spec = options.output_spec(background_image=True)  # no image yet: nothing fetched
    assert spec.type is OutputType.BACKGROUND and spec.bg_image is None
    assert spec.with_background(b"photo").bg_image == b"photo"
    # other types take no background image, so none is counted for them
    with pytest.raises(HumansegError) as caught:
        OutputOptions(type="foreground", format="jpeg").output_spec(background_image=True)
    assert caught.value.code is ErrorCode.INVALID_FORMAT


def test_crop_is_the_type_and_its_margin_not_a_flag() -> None:
    fields = {field.name for field in dataclasses.fields(OutputSpec)}
    assert not fields & {"crop", "scale", "position"}
    crop = parse_output_spec("crop", crop_margin="10%")
    assert crop.crop_margin == Margin(0.1, 0.1, 0.1, 0.1, relative=(True,) * 4)
    assert OutputSpec(type=OutputType.CROP).crop_margin == Margin()
    assert parse_output_spec("foreground", crop_margin="10%").crop_margin is None


def test_base64_fields_are_checked_against_the_one_limit() -> None:
    class Body(BaseModel):
        img: Base64Text | None = None

    context = base64_limit(AccessSettings(max_base64_chars=8))
    assert Body.model_validate({"img": "A" * 8}, context=context).img == "A" * 8
    with pytest.raises(HumansegError) as caught:
        Body.model_validate({"img": "A" * 9}, context=context)
    assert caught.value.code is ErrorCode.BASE64_TOO_LARGE and "`img`" in caught.value.message
    with pytest.raises(RuntimeError):  # a request validated without the limit is a bug
        Body.model_validate({"img": "AAAA"})
