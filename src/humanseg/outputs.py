"""What the caller wants back: the output specification of the core pipeline.

``OutputSpec`` is a plain frozen value, and the pipeline reads nothing else. The request fields
that describe it (types, formats, their allowed values and meanings) are defined once in
``humanseg.schema``; each front end maps its own fields onto that schema or onto this value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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
DEFAULT_BLUR_STRENGTH = 0.5


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
class Placement:
    """Where the person sits on the canvas: their size and the position of their centre."""

    scale: float | None = None  # the person's size relative to the canvas (0.1 … 1); None: as is
    position: tuple[float, float] | None = None  # the person's centre, as canvas fractions


@dataclass(frozen=True)
class IdPreset:
    name: str
    title: str
    print_size: str  # the printed photo's size, as people name it
    size: tuple[int, int]  # (width, height) in px
    dpi: int
    head_ratio: float  # crown (top of hair) to chin, as a fraction of the photo's height
    top_ratio: float  # free space above the crown, as a fraction of the photo's height


# Head size and position follow each format's usual rules: ICAO 9303 for the passport (head
# 32-36 mm of 45 mm, crown 3-5 mm below the top edge), the US State Department's 2×2 in rule
# (head 1-1⅜ in, eyes 1⅛-1⅜ in from the bottom), and the common Chinese 1- and 2-inch formats
# (GB/T 29303-style: head about two thirds of the height, a small margin above the hair).
ID_PRESETS: dict[str, IdPreset] = {
    "1inch": IdPreset(
        "1inch", "1 inch", "25 × 35 mm", (295, 413), 300, head_ratio=0.64, top_ratio=0.10
    ),
    "2inch": IdPreset(
        "2inch", "2 inch", "35 × 49 mm", (413, 579), 300, head_ratio=0.64, top_ratio=0.10
    ),
    "passport": IdPreset(
        "passport", "Passport", "35 × 45 mm", (413, 531), 300, head_ratio=0.76, top_ratio=0.09
    ),
    # top 7 %: the eyes then sit about 60 % up from the bottom (the rule: 56-69 %)
    "us": IdPreset("us", "US", "2 × 2 in", (600, 600), 300, head_ratio=0.60, top_ratio=0.07),
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


def has_alpha(kind: OutputType, bg_color: RGBA | None, background_image: bool) -> bool:
    """Whether an output of ``kind`` carries transparency (and so cannot be a JPEG)."""
    if kind in (OutputType.FOREGROUND, OutputType.CROP):
        return bg_color is None or bg_color[3] < 255
    if kind is OutputType.BACKGROUND:
        return not background_image and (bg_color is None or bg_color[3] < 255)
    return False


@dataclass(frozen=True)
class OutputSpec:
    """Everything that shapes the output; the defaults give the seed's alpha matte as PNG."""

    type: OutputType = OutputType.ALPHA
    format: ImageFormat = ImageFormat.PNG
    bg_color: RGBA | None = None  # BACKGROUND (and FOREGROUND/CROP: fill behind the person)
    bg_image: bytes | None = None  # BACKGROUND: replacement photo, scaled to cover
    blur_strength: float = DEFAULT_BLUR_STRENGTH  # BLUR: 0 (none) … 1 (strong)
    # Crop to the person with this margin; None keeps the photo's frame. CROP always crops.
    crop_margin: Margin | None = None
    placement: Placement | None = None  # move or scale the person on the canvas
    max_pixels: int | None = None  # downscale the output to at most this many pixels
    id_preset: IdPreset | None = None  # ID_PHOTO
    refine: bool | None = None  # edge refinement; None: the server's setting
    # keep every separate part of a pipeline's matte (a group); None: the server's setting
    keep_every_part: bool | None = None
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        if self.type is OutputType.CROP and self.crop_margin is None:
            object.__setattr__(self, "crop_margin", Margin())

    @property
    def has_alpha(self) -> bool:
        """Whether the image carries transparency (and so cannot be a JPEG)."""
        return has_alpha(self.type, self.bg_color, self.bg_image is not None)

    @property
    def reframes(self) -> bool:
        """Whether the person is cropped, moved or scaled (the output is not the photo's frame)."""
        return self.crop_margin is not None or self.placement is not None

    def with_background(self, image: bytes | None) -> OutputSpec:
        """This spec with its replacement background photo, once fetched."""
        return self if image is None else replace(self, bg_image=image)


# Other names of formats, accepted wherever a format is named.
FORMAT_ALIASES = {"jpg": ImageFormat.JPEG}


def format_named(name: str) -> ImageFormat | None:
    """The format called ``name`` (any case, ``jpg`` included); None if there is none."""
    lowered = name.lower()
    if lowered in FORMAT_ALIASES:
        return FORMAT_ALIASES[lowered]
    try:
        return ImageFormat(lowered)
    except ValueError:
        return None


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
    """An ID photo size by name or alias, in any case; empty or absent: ``1inch``."""
    name = (value or "1inch").lower()
    name = ID_PRESET_ALIASES.get(name, name)
    if name not in ID_PRESETS:
        known = ", ".join(ID_PRESETS)
        raise error(
            ErrorCode.INVALID_ID_PRESET, f"Unknown ID photo size {value[:50]!r}; use {known}."
        )
    return ID_PRESETS[name]
