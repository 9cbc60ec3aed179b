"""remove.bg's form fields: their allowed values, defaults and meanings, and their mapping.

``RemoveBgForm`` is both the parser of a request's fields and its OpenAPI schema, so the two
cannot disagree. Formats and output types are the core's (``humanseg.outputs``); the sizes,
foreground types, channels and placement strings are remove.bg's own and stay here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from humanseg.errors import ErrorCode, error
from humanseg.outputs import (
    FORMAT_ALIASES,
    ImageFormat,
    OutputSpec,
    OutputType,
    Placement,
    has_alpha,
    parse_color,
    parse_margin,
)
from humanseg.sources import Base64Text

# remove.bg's output sizes, as the most pixels of the result (None: the input's own size).
SIZES: dict[str, int | None] = {
    "preview": 250_000,
    "small": 250_000,
    "regular": 250_000,
    "medium": 1_500_000,
    "hd": 4_000_000,
    "full": None,
    "4k": None,
    "50mp": None,
    "auto": None,
}
# Foreground types a client may name; the service finds people whatever is named.
FOREGROUND_TYPES = (
    "auto",
    "person",
    "product",
    "animal",
    "car",
    "car_interior",
    "car_part",
    "transportation",
    "graphics",
    "other",
)
AUTO_FORMAT = "auto"  # PNG when the result has transparency, else JPEG
FORMATS = (AUTO_FORMAT, *(fmt.value for fmt in ImageFormat), *FORMAT_ALIASES)
CHANNELS = ("rgba", "alpha")
MAX_MARGIN_PX = 500
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


def _choice(name: str, allowed: tuple[str, ...], default: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, str):
            return value
        lowered = value.strip().lower() or default
        if lowered not in allowed:
            options = ", ".join(sorted(allowed))
            raise error(
                ErrorCode.INVALID_PARAMETER,
                f"`{name}` must be one of {options}; not {lowered[:30]!r}.",
            )
        return lowered

    return check


def _enum(values: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


def _flag(value: object) -> object:
    if not isinstance(value, str):
        return value
    lowered = value.strip().lower()
    if lowered in ("", "false", "0", "no", "off"):
        return False
    if lowered in ("true", "1", "yes", "on"):
        return True
    raise error(ErrorCode.INVALID_PARAMETER, f"`crop` must be true or false, not {value[:30]!r}.")


def _blank_is_none(value: object) -> object:
    return value.strip() or None if isinstance(value, str) else value


Text = Annotated[str | None, BeforeValidator(_blank_is_none)]


class RemoveBgForm(BaseModel):
    """The fields of ``POST /v1.0/removebg`` that matter (the files travel beside them)."""

    model_config = ConfigDict(extra="ignore")

    image_file_b64: Base64Text | None = Field(None, description="The photo, base64.")
    image_url: Text = Field(None, description="The photo's http(s) or s3 address.")
    size: Annotated[
        str, BeforeValidator(_choice("size", tuple(SIZES), "preview")), _enum(tuple(SIZES))
    ] = Field(
        "preview",
        description="preview/small/regular: at most 0.25 MP; medium 1.5 MP; hd 4 MP; "
        "full/4k/50mp/auto: the input's size.",
    )
    type: Annotated[
        str,
        BeforeValidator(_choice("type", FOREGROUND_TYPES, "auto")),
        _enum(FOREGROUND_TYPES),
    ] = Field("auto", description="The kind of foreground; people are found whatever it names.")
    format: Annotated[
        str, BeforeValidator(_choice("format", FORMATS, AUTO_FORMAT)), _enum(FORMATS)
    ] = Field(
        AUTO_FORMAT,
        description="auto: PNG when the result has transparency, else JPEG. jpg and jpeg are "
        "the same. zip: color.jpg + alpha.png.",
    )
    channels: Annotated[
        str, BeforeValidator(_choice("channels", CHANNELS, "rgba")), _enum(CHANNELS)
    ] = Field("rgba", description="rgba: the cut-out; alpha: the matte alone.")
    bg_color: Text = Field(None, description="Hex (81d4fa, fff, 81d4fa77) or a name.")
    bg_image_url: Text = Field(None, description="A replacement background's address.")
    crop: Annotated[bool, BeforeValidator(_flag)] = Field(
        False, description="Crop to the person (`crop_margin` around them)."
    )
    crop_margin: Text = Field(
        None, description=f"e.g. 30px, 10%, or 10px 20px (at most {MAX_MARGIN_PX}px)."
    )
    scale: Text = Field(None, description="original, or 10% to 100%: the person's size.")
    position: Text = Field(None, description="original, center, or 'x% y%': the person's centre.")

    def output_spec(self, *, background_image: bool) -> OutputSpec:
        """The core's ``OutputSpec`` for these fields; unsupported values are errors.

        ``background_image``: a background photo (file or url) will be attached once fetched.
        """
        margin = parse_margin(self.crop_margin, max_px=MAX_MARGIN_PX)
        color = parse_color(self.bg_color) if self.bg_color else None
        if self.channels == "alpha":
            kind = OutputType.ALPHA
        elif background_image or color is not None:
            kind = OutputType.BACKGROUND
        else:
            kind = OutputType.FOREGROUND
        jpeg = (
            self.format != AUTO_FORMAT
            and ImageFormat(FORMAT_ALIASES.get(self.format, self.format)) is ImageFormat.JPEG
        )
        if jpeg and kind is OutputType.FOREGROUND:
            kind, color = OutputType.BACKGROUND, (255, 255, 255, 255)  # JPEG: on white
        background_image = background_image and kind is OutputType.BACKGROUND
        transparent = has_alpha(kind, color, background_image)
        if self.format == AUTO_FORMAT:
            fmt = ImageFormat.PNG if transparent or kind is OutputType.ALPHA else ImageFormat.JPEG
        elif jpeg:
            if transparent:
                raise error(
                    ErrorCode.INVALID_FORMAT,
                    "JPEG has no transparency; give an opaque bg_color or use png.",
                )
            fmt = ImageFormat.JPEG
        else:
            fmt = ImageFormat(self.format)
        return OutputSpec(
            type=kind,
            format=fmt,
            bg_color=color if kind is OutputType.BACKGROUND else None,
            crop_margin=margin if self.crop else None,
            placement=self._placement(),
            max_pixels=SIZES[self.size],
        )

    def _placement(self) -> Placement | None:
        scale_text = (self.scale or "original").lower()
        scale = None if scale_text == "original" else _percent(scale_text, "scale", 10, 100)
        position = _position(self.position or "")
        if scale is not None and position is None:
            position = (0.5, 0.5)  # remove.bg: scaling implies centring unless told otherwise
        if scale is None and position is None:
            return None
        return Placement(scale=scale, position=position)


def _percent(value: str, name: str, low: float, high: float) -> float:
    match = _PERCENT.match(value)
    number = float(match.group(1)) if match else -1.0
    if not low <= number <= high:
        raise error(
            ErrorCode.INVALID_PARAMETER,
            f"`{name}` must be a percentage from {low:g}% to {high:g}%, not {value[:30]!r}.",
        )
    return number / 100


def _position(value: str) -> tuple[float, float] | None:
    lowered = value.lower()
    if lowered in ("", "original"):
        return None
    if lowered == "center":
        return (0.5, 0.5)
    parts = lowered.split()
    if len(parts) not in (1, 2):
        raise error(
            ErrorCode.INVALID_PARAMETER, "`position` is original, center, or 1-2 percentages."
        )
    return (_percent(parts[0], "position", 0, 100), _percent(parts[-1], "position", 0, 100))


def form_schema() -> dict[str, Any]:
    """The OpenAPI schema of the form: ``RemoveBgForm``'s fields and the two files."""
    schema = RemoveBgForm.model_json_schema()
    properties = schema["properties"]
    return {
        "type": "object",
        "properties": {
            "image_file": {"type": "string", "format": "binary", "description": "The photo."},
            **properties,
            "bg_image_file": {
                "type": "string",
                "format": "binary",
                "description": "A replacement background photo.",
            },
        },
    }
