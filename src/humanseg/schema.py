"""The request schema of an output: its types, fields, allowed values, defaults and meanings.

Defined once here and read by every front end: the seed endpoint's body and its OpenAPI
document, ``GET /v1/types`` and the playground, the remove.bg mapping, the Python Client's
parameter types and the CLI's choices. Nothing here knows about HTTP. A value outside a field's
choices raises ``HumansegError`` with that field's code while the model is validated, and
``OutputOptions.output_spec`` checks the rest, so a whole request is judged before anything is
fetched, and parsed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema

from humanseg.errors import ErrorCode, error
from humanseg.outputs import (
    DEFAULT_BLUR_STRENGTH,
    FORMAT_ALIASES,
    ID_COLORS,
    ID_PRESET_ALIASES,
    ID_PRESETS,
    ImageFormat,
    OutputSpec,
    OutputType,
    format_named,
    has_alpha,
    parse_color,
    parse_id_preset,
    parse_margin,
)
from humanseg.settings import Settings
from humanseg.sources import base64_limit

Request = TypeVar("Request", bound=BaseModel)

# The values of `type`, `format` and `id_preset` for static typing (the Python Client's
# parameters); tests hold them equal to the enums and tables they name.
OutputTypeName = Literal[
    "", "alpha", "foreground", "mask", "background", "blur", "crop", "id_photo"
]
FormatName = Literal["png", "webp", "jpeg"]
IdPresetName = Literal["1inch", "2inch", "passport", "us"]


@dataclass(frozen=True)
class TypeInfo:
    """What an output type is, for people and for forms built from the schema."""

    title: str
    description: str
    options: tuple[str, ...]  # the request fields that shape it
    transparent: bool  # the result has transparency (no JPEG) unless a bg_color fills it
    same_size: bool  # the result has the photo's width and height


TYPES: dict[OutputType, TypeInfo] = {
    OutputType.ALPHA: TypeInfo(
        "Alpha matte",
        "The alpha matte: an 8-bit grayscale image, 255 = person.",
        (),
        transparent=False,
        same_size=True,
    ),
    OutputType.FOREGROUND: TypeInfo(
        "Cut-out (transparent)",
        "The photo as an RGBA image with a transparent background.",
        (),
        transparent=True,
        same_size=True,
    ),
    OutputType.MASK: TypeInfo(
        "Mask (black and white)",
        "A binary mask: grayscale with only 0 and 255.",
        (),
        transparent=False,
        same_size=True,
    ),
    OutputType.BACKGROUND: TypeInfo(
        "New background",
        "The person on a new background: needs `bg_color` or a background image "
        "(`bg_img` or `bg_url`).",
        ("bg_color", "bg_img", "bg_url"),
        transparent=False,
        same_size=True,
    ),
    OutputType.BLUR: TypeInfo(
        "Background blur",
        "Portrait mode: the photo with its background blurred (`blur_strength` 0-1).",
        ("blur_strength",),
        transparent=False,
        same_size=True,
    ),
    OutputType.CROP: TypeInfo(
        "Cropped cut-out",
        "The cut-out cropped to the person (`crop_margin`).",
        ("crop_margin",),
        transparent=True,
        same_size=False,
    ),
    OutputType.ID_PHOTO: TypeInfo(
        "ID photo",
        "An ID photo (`id_preset`, `bg_color`): preset size, head placed by the preset's "
        "rules, plain background; needs exactly one face.",
        ("id_preset", "bg_color"),
        transparent=False,
        same_size=False,
    ),
}


@dataclass(frozen=True)
class FormatInfo:
    title: str
    media_type: str
    extension: str


# The formats a request may name (zip is remove.bg's alone).
FORMATS: dict[ImageFormat, FormatInfo] = {
    ImageFormat.PNG: FormatInfo("PNG", "image/png", "png"),
    ImageFormat.WEBP: FormatInfo("WebP", "image/webp", "webp"),
    ImageFormat.JPEG: FormatInfo("JPEG", "image/jpeg", "jpg"),
}

# Every value each field accepts, aliases included (the OpenAPI document lists them all).
TYPE_VALUES: tuple[str, ...] = ("", *(kind.value for kind in OutputType))
FORMAT_VALUES: tuple[str, ...] = (*(fmt.value for fmt in FORMATS), *FORMAT_ALIASES)
ID_PRESET_VALUES: tuple[str, ...] = (*ID_PRESETS, *ID_PRESET_ALIASES)
ID_COLOR_NAMES: tuple[str, ...] = tuple(ID_COLORS)


def type_value(kind: OutputType) -> str:
    """How a request names ``kind``: the alpha matte is the empty (or absent) type."""
    return "" if kind is OutputType.ALPHA else kind.value


def parse_output_type(value: str | None) -> OutputType:
    """`type`: empty or absent means the alpha matte."""
    if value is None or value == "":
        return OutputType.ALPHA
    try:
        return OutputType(value)
    except ValueError:
        known = ", ".join(f'"{type_value(kind)}"' for kind in OutputType if type_value(kind))
        raise error(
            ErrorCode.INVALID_TYPE,
            f"Unknown type {value[:50]!r}; use one of {known}, or leave it empty for the "
            "alpha matte.",
        ) from None


def _type_choice(value: object) -> object:
    if isinstance(value, str):
        parse_output_type(value)
    return value  # not a string: the field's own type check answers


def _format_choice(value: object) -> object:
    if not isinstance(value, str):
        return value
    if value == "":
        return None
    fmt = format_named(value)
    if fmt is None:
        raise error(
            ErrorCode.INVALID_FORMAT, f"Unknown format {value[:50]!r}; use png, webp or jpeg."
        )
    if fmt not in FORMATS:
        raise error(
            ErrorCode.INVALID_FORMAT,
            f"{fmt.value} is only offered by the remove.bg-compatible endpoint.",
        )
    return fmt.value


def _id_preset_choice(value: object) -> object:
    if not isinstance(value, str):
        return value
    return parse_id_preset(value).name if value else None


def _choices(values: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [{"type": "string", "enum": list(values)}, {"type": "null"}]})


def _type_description() -> str:
    def sentence(kind: OutputType) -> str:
        text = TYPES[kind].description
        return text[0].lower() + text[1:]

    others = (f"`{type_value(kind)}`: {sentence(kind)}" for kind in TYPES if type_value(kind))
    return f"Empty or absent (or `alpha`): {sentence(OutputType.ALPHA)} " + " ".join(others)


TypeField = Annotated[
    OutputTypeName | None,
    BeforeValidator(_type_choice),
    _choices(TYPE_VALUES),
    Field(description=_type_description()),
]


class OutputOptions(BaseModel):
    """The fields that choose and shape the output; the seed's ``type`` means the same."""

    model_config = ConfigDict(extra="ignore")

    type: TypeField = None
    format: Annotated[
        FormatName | None,
        BeforeValidator(_format_choice),
        _choices(FORMAT_VALUES),
        Field(
            description="Encoding of the result: `png` (default), `webp` (lossless where there "
            "is alpha) or `jpeg` (also `jpg`; only for outputs without transparency). Any case."
        ),
    ] = None
    bg_color: str | None = Field(
        None,
        description="Background colour: hex (`#00aaff`, `0af`, `00aaff80`), "
        "`rgba(0,170,255,0.5)` or a name. For `id_photo`: "
        + ", ".join(f"`{name}`" for name in ID_COLOR_NAMES)
        + " (the first is the default) or any hex.",
        examples=["#ffffff", "rgba(0,0,0,0.5)", "blue"],
    )
    blur_strength: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=f"`blur`: 0 (none) to 1 (strongest); default {DEFAULT_BLUR_STRENGTH}.",
    )
    crop_margin: str | int | None = Field(
        None,
        description="`crop`: space around the person: pixels (`20` or `20px`), a percentage "
        "of the person's size (`10%`), or 2-4 values in CSS order (`10px 5%`).",
    )
    id_preset: Annotated[
        IdPresetName | None,
        BeforeValidator(_id_preset_choice),
        _choices(ID_PRESET_VALUES),
        Field(
            description="`id_photo` size: "
            + ", ".join(
                f"`{preset.name}` ({preset.title}, {preset.print_size}: "
                f"{preset.size[0]}×{preset.size[1]} px)"
                for preset in ID_PRESETS.values()
            )
            + "; the first is the default. Also accepted: "
            + ", ".join(f"`{alias}`" for alias in ID_PRESET_ALIASES)
            + "."
        ),
    ] = None
    refine: bool | None = Field(
        None,
        description="Refine the matte's edges against the photo (default: the server's "
        "`HUMANSEG_REFINE_EDGES`).",
    )
    keep_every_part: bool | None = Field(
        None,
        description="Keep every separate part of the pipeline's matte: everyone in a group "
        "photo, however small or far apart (default: the server's `HUMANSEG_KEEP_EVERY_PART`, "
        "off: parts under a share of the largest one, a passer-by or a stray object, are "
        "dropped).",
    )

    def output_spec(self, *, background_image: bool = False) -> OutputSpec:
        """The ``OutputSpec`` these fields ask for; every bad value is an error with its code.

        ``background_image``: a replacement background photo will be attached (with
        ``OutputSpec.with_background``) once fetched; it counts for the checks already.
        """
        kind = parse_output_type(self.type)
        if kind is OutputType.ID_PHOTO:
            color = parse_color(self.bg_color or ID_COLOR_NAMES[0], names=ID_COLORS)
            if color[3] != 255:
                raise error(
                    ErrorCode.INVALID_COLOR, "An ID photo needs an opaque background colour."
                )
        else:
            color = parse_color(self.bg_color) if self.bg_color else None
        background_image = background_image and kind is OutputType.BACKGROUND
        if kind is OutputType.BACKGROUND and color is None and not background_image:
            raise error(
                ErrorCode.MISSING_BACKGROUND,
                "type background needs `bg_color` or a background image (`bg_img` or `bg_url`).",
            )
        margin = parse_margin(self.crop_margin)
        fmt = ImageFormat(self.format) if self.format else ImageFormat.PNG
        if fmt is ImageFormat.JPEG and has_alpha(kind, color, background_image):
            raise error(
                ErrorCode.INVALID_FORMAT,
                "JPEG has no transparency; ask for png or webp, or give an opaque bg_color.",
            )
        return OutputSpec(
            type=kind,
            format=fmt,
            bg_color=color,
            blur_strength=(
                DEFAULT_BLUR_STRENGTH if self.blur_strength is None else self.blur_strength
            ),
            crop_margin=margin if kind is OutputType.CROP else None,
            id_preset=parse_id_preset(self.id_preset) if kind is OutputType.ID_PHOTO else None,
            refine=self.refine,
            keep_every_part=self.keep_every_part,
        )


def parse_output_spec(
    type: str | None = None,
    *,
    bg_image: bytes | None = None,
    **fields: Any,
) -> OutputSpec:
    """The output fields as Python arguments (CLI, tests) to an ``OutputSpec``."""
    options = OutputOptions.model_validate({"type": type, **fields})
    spec = options.output_spec(background_image=bg_image is not None)
    return spec.with_background(bg_image if spec.type is OutputType.BACKGROUND else None)


def validate_request(
    model: type[Request], payload: dict[str, Any], settings: Settings, *, code: ErrorCode
) -> Request:
    """``payload`` as ``model``, every base64 field under the settings' limit.

    A value outside a field's choices raises that field's own code; any other invalid field
    (a wrong JSON type, a number out of range) raises ``code``.
    """
    try:
        return model.model_validate(payload, context=base64_limit(settings.access))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise error(code, f"Field `{field}`: {first['msg']}.") from None
