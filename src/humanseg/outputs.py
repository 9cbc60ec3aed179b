"""What the caller wants back: the output specification of the core pipeline.

``OutputSpec`` is a plain frozen value. Each front end maps its own request fields onto it with a
pure function (the seed API with ``parse_output_spec``, the remove.bg API in
``api/removebg.py``); the pipeline reads nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from PIL import ImageColor

from humanseg.errors import ErrorCode, error


class OutputType(StrEnum):
    ALPHA = "alpha"  # the seed's default (empty or absent `type`): the soft matte
    FOREGROUND = "foreground"  # RGBA cut-out
    MASK = "mask"  # binary matte, 0 or 255
    BACKGROUND = "background"  # the person on a new background (colour or image)
    BLUR = "blur"  # portrait mode: the photo with its background blurred
    CROP = "crop"  # RGBA cut-out cropped tightly to the person, with a margin
    ID_PHOTO = "id_photo"  # passport-style photo: preset size, head placement, plain background


class ImageFormat(StrEnum):
    PNG = "png"
    WEBP = "webp"
    JPEG = "jpeg"
    ZIP = "zip"  # remove.bg's: color.jpg + alpha.png in a zip archive


RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Margin:
    """Space around a crop: per side (top, right, bottom, left), in px or as subject fractions."""

    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    left: float = 0.0
    relative: tuple[bool, bool, bool, bool] = (False, False, False, False)

    def pixels(self, subject_width: int, subject_height: int) -> tuple[int, int, int, int]:
        sizes = (subject_height, subject_width, subject_height, subject_width)
        values = (self.top, self.right, self.bottom, self.left)
        return tuple(  # type: ignore[return-value]
            round(v * s) if rel else round(v)
            for v, s, rel in zip(values, sizes, self.relative, strict=True)
        )


@dataclass(frozen=True)
class IdPreset:
    name: str
    size: tuple[int, int]  # (width, height) in px
    dpi: int
    head_ratio: float  # crown (top of hair) to chin, as a fraction of the photo's height
    top_ratio: float  # free space above the crown, as a fraction of the photo's height


# Head size and position follow each format's usual rules: ICAO 9303 for the passport (head
# 32-36 mm of 45 mm, crown 3-5 mm below the top edge), the US State Department's 2×2 in rule
# (head 1-1⅜ in, eyes 1⅛-1⅜ in from the bottom), and the common Chinese 1- and 2-inch formats
# (GB/T 29303-style: head about two thirds of the height, a small margin above the hair).
ID_PRESETS: dict[str, IdPreset] = {
    "1inch": IdPreset("1inch", (295, 413), 300, head_ratio=0.64, top_ratio=0.10),
    "2inch": IdPreset("2inch", (413, 579), 300, head_ratio=0.64, top_ratio=0.10),
    "passport": IdPreset("passport", (413, 531), 300, head_ratio=0.76, top_ratio=0.09),
    # top 7 %: the eyes then sit about 60 % up from the bottom (the rule: 56-69 %)
    "us": IdPreset("us", (600, 600), 300, head_ratio=0.60, top_ratio=0.07),
}
ID_PRESET_ALIASES = {
    "1-inch": "1inch",
    "one_inch": "1inch",
    "2-inch": "2inch",
    "two_inch": "2inch",
    "passport_35x45": "passport",
    "35x45": "passport",
    "us_2x2": "us",
    "2x2": "us",
}
# The usual ID backgrounds; any other colour may be given as hex.
ID_COLORS: dict[str, RGBA] = {
    "white": (255, 255, 255, 255),
    "blue": (67, 142, 219, 255),
    "red": (255, 0, 0, 255),
}


@dataclass(frozen=True)
class OutputSpec:
    """Everything that shapes the output; the defaults give the seed's alpha matte as PNG."""

    type: OutputType = OutputType.ALPHA
    format: ImageFormat = ImageFormat.PNG
    bg_color: RGBA | None = None  # BACKGROUND (and FOREGROUND/CROP: fill behind the person)
    bg_image: bytes | None = None  # BACKGROUND: replacement photo, scaled to cover
    blur_strength: float = 0.5  # BLUR: 0 (none) … 1 (strong)
    crop: bool = False  # crop to the person (implied by CROP)
    crop_margin: Margin = field(default_factory=Margin)
    scale: float | None = None  # remove.bg: subject size relative to the canvas (0.1 … 1)
    position: tuple[float, float] | None = None  # remove.bg: subject placement, fractions
    max_pixels: int | None = None  # downscale the output to at most this many pixels
    id_preset: IdPreset | None = None  # ID_PHOTO
    refine: bool | None = None  # edge refinement; None: the server's setting
    jpeg_quality: int = 90

    @property
    def has_alpha(self) -> bool:
        """Whether the image carries transparency (and so cannot be a JPEG)."""
        if self.type in (OutputType.FOREGROUND, OutputType.CROP):
            return self.bg_color is None or self.bg_color[3] < 255
        if self.type is OutputType.BACKGROUND:
            return self.bg_image is None and (self.bg_color is None or self.bg_color[3] < 255)
        return False


def parse_output_type(value: str | None) -> OutputType:
    """The seed API's `type`: empty or absent means the alpha matte."""
    if value is None or value == "":
        return OutputType.ALPHA
    try:
        return OutputType(value)
    except ValueError:
        known = ", ".join(f'"{t.value}"' for t in OutputType if t is not OutputType.ALPHA)
        raise error(
            ErrorCode.INVALID_TYPE,
            f"Unknown type {value[:50]!r}; use one of {known}, or leave it empty for the "
            "alpha matte.",
        ) from None


def parse_format(value: str | None, *, has_alpha: bool, default: ImageFormat) -> ImageFormat:
    if value is None or value == "":
        return default
    name = value.lower()
    if name == "jpg":
        name = "jpeg"
    try:
        fmt = ImageFormat(name)
    except ValueError:
        raise error(
            ErrorCode.INVALID_FORMAT, f"Unknown format {value[:50]!r}; use png, webp or jpeg."
        ) from None
    if fmt is ImageFormat.JPEG and has_alpha:
        raise error(
            ErrorCode.INVALID_FORMAT,
            "JPEG has no transparency; ask for png or webp, or give an opaque bg_color.",
        )
    return fmt


_HEX = re.compile(r"^#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_FUNC = re.compile(r"^rgba?\(([^)]*)\)$", re.IGNORECASE)


def parse_color(
    value: str, *, names: dict[str, RGBA] | None = None, field: str = "bg_color"
) -> RGBA:
    """Hex (``#0af``, ``00aaff``, ``00aaff80``), ``rgb(...)``/``rgba(...)`` or a colour name."""
    text = value.strip()
    if names and text.lower() in names:
        return names[text.lower()]
    match = _HEX.match(text)
    if match:
        digits = match.group(1)
        if len(digits) <= 4:
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 6:
            digits += "ff"
        r, g, b, a = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
        return r, g, b, a
    match = _FUNC.match(text)
    if match:
        parts = [p.strip() for p in match.group(1).split(",")]
        try:
            if len(parts) in (3, 4):
                r, g, b = (int(p) for p in parts[:3])
                alpha = float(parts[3]) if len(parts) == 4 else 1.0
                if all(0 <= c <= 255 for c in (r, g, b)) and 0.0 <= alpha <= 1.0:
                    return r, g, b, round(alpha * 255)
        except ValueError:
            pass
    else:
        try:
            rgb = ImageColor.getrgb(text)
        except ValueError:
            pass
        else:
            # Pillow computes hsl()/hsv() with lightness or saturation over 100 % to values
            # outside 0-255 (even negative ones): refuse them rather than wrap around
            if all(isinstance(c, int) and 0 <= c <= 255 for c in rgb):
                return (*rgb[:3], rgb[3] if len(rgb) == 4 else 255)  # type: ignore[return-value]
            raise error(
                ErrorCode.INVALID_COLOR,
                f"`{field}`: the colour {value[:50]!r} is out of range (percentages go up to "
                "100 %, channels up to 255).",
            )
    raise error(
        ErrorCode.INVALID_COLOR,
        f"`{field}`: cannot read the colour {value[:50]!r}; use hex such as #00aaff or "
        "00aaff80, rgba(0,170,255,0.5) or a colour name.",
    )


_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)(px|%)?$")


def parse_margin(value: str | int | float | None, *, max_px: int = 2000) -> Margin:
    """``20``, ``"20px"``, ``"10%"``, or 2-4 space-separated values in CSS order."""
    if value is None or value == "":
        return Margin()
    parts = str(value).split() if isinstance(value, str) else [str(value)]
    if not 1 <= len(parts) <= 4:
        raise error(
            ErrorCode.INVALID_MARGIN, "A margin has 1 to 4 values, e.g. 20px or 10% or 10px 5%."
        )
    numbers: list[float] = []
    relative: list[bool] = []
    for part in parts:
        match = _LENGTH.match(part)
        if not match:
            raise error(
                ErrorCode.INVALID_MARGIN, f"Cannot read the margin {part[:30]!r}; use 20px or 10%."
            )
        number = float(match.group(1))
        is_relative = match.group(2) == "%"
        if (is_relative and number > 100) or (not is_relative and number > max_px):
            raise error(ErrorCode.INVALID_MARGIN, f"The margin {part!r} is too large.")
        numbers.append(number / 100 if is_relative else number)
        relative.append(is_relative)
    # CSS shorthand: 1 value all sides; 2: vertical horizontal; 3: top horizontal bottom
    index = {1: (0, 0, 0, 0), 2: (0, 1, 0, 1), 3: (0, 1, 2, 1), 4: (0, 1, 2, 3)}[len(parts)]
    return Margin(
        *(numbers[i] for i in index),
        relative=tuple(relative[i] for i in index),  # type: ignore[arg-type]
    )


def parse_id_preset(value: str | None) -> IdPreset:
    name = (value or "1inch").lower()
    name = ID_PRESET_ALIASES.get(name, name)
    if name not in ID_PRESETS:
        known = ", ".join(ID_PRESETS)
        raise error(
            ErrorCode.INVALID_ID_PRESET, f"Unknown ID photo size {value[:50]!r}; use {known}."
        )
    return ID_PRESETS[name]


def parse_output_spec(
    type: str | None = None,
    *,
    format: str | None = None,
    bg_color: str | None = None,
    bg_image: bytes | None = None,
    blur_strength: float | None = None,
    crop_margin: str | int | float | None = None,
    id_preset: str | None = None,
    refine: bool | None = None,
) -> OutputSpec:
    """The seed API's fields to an ``OutputSpec``; every bad value is a 400 with its own code."""
    kind = parse_output_type(type)
    if kind is OutputType.ID_PHOTO:
        color = parse_color(bg_color or "white", names=ID_COLORS)
        if color[3] != 255:
            raise error(ErrorCode.INVALID_COLOR, "An ID photo needs an opaque background colour.")
    else:
        color = parse_color(bg_color) if bg_color else None
    if kind is OutputType.BACKGROUND and color is None and bg_image is None:
        raise error(
            ErrorCode.MISSING_BACKGROUND,
            "type background needs `bg_color` or a background image (`bg_img` or `bg_url`).",
        )
    if blur_strength is not None and not 0.0 <= blur_strength <= 1.0:
        raise error(ErrorCode.INVALID_REQUEST, "Field `blur_strength` must be between 0 and 1.")
    spec = OutputSpec(
        type=kind,
        bg_color=color,
        bg_image=bg_image if kind is OutputType.BACKGROUND else None,
        blur_strength=0.5 if blur_strength is None else blur_strength,
        crop=kind is OutputType.CROP,
        crop_margin=parse_margin(crop_margin) if crop_margin not in (None, "") else Margin(),
        id_preset=parse_id_preset(id_preset) if kind is OutputType.ID_PHOTO else None,
        refine=refine,
    )
    fmt = parse_format(format, has_alpha=spec.has_alpha, default=ImageFormat.PNG)
    if fmt is ImageFormat.ZIP:
        raise error(
            ErrorCode.INVALID_FORMAT, "zip is only offered by the remove.bg-compatible endpoint."
        )
    return replace(spec, format=fmt)
