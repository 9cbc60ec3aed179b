"""JSON shapes of the seed API, used for validation and for the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SeedRequest(BaseModel):
    """Body of ``POST /human_image_segmentation``: exactly one of ``img`` and ``url``."""

    model_config = ConfigDict(extra="ignore")

    img: str | None = Field(
        None,
        description="Base64 of the image bytes (JPEG, PNG or BMP; longest side at most 4096 px). "
        "A `data:image/...;base64,` prefix, line breaks and the URL-safe alphabet are accepted.",
    )
    url: str | None = Field(
        None,
        description="Address of the image: `http://`, `https://` or `s3://bucket/key`.",
    )
    type: str | None = Field(
        None,
        description="Empty or absent: the alpha matte (8-bit grayscale PNG). "
        "`foreground`: RGBA PNG with a transparent background. "
        "`mask`: binary mask (0/255). `background`: the person on `bg_color` or on a "
        "background image (`bg_img`/`bg_url`). `blur`: the photo with its background "
        "blurred (`blur_strength`). `crop`: the cut-out cropped to the person "
        "(`crop_margin`). `id_photo`: an ID photo (`id_preset`, `bg_color`).",
        json_schema_extra={
            "enum": ["", "foreground", "mask", "background", "blur", "crop", "id_photo"]
        },
    )

    model: str | None = Field(
        None,
        description="Extension: the catalog model to use (see `GET /v1/models`); "
        "absent: the server's default model.",
    )


class SegmentationRequest(SeedRequest):
    """The seed's body plus optional fields for more outputs; the seed's fields mean the same."""

    format: str | None = Field(
        None,
        description="Encoding of the result: `png` (default), `webp` (lossless where there is "
        "alpha) or `jpeg` (only for outputs without transparency).",
        json_schema_extra={"enum": ["png", "webp", "jpeg"]},
    )
    bg_color: str | None = Field(
        None,
        description="Background colour: hex (`#00aaff`, `0af`, `00aaff80`), "
        "`rgba(0,170,255,0.5)` or a name. For `id_photo`: `white` (default), `blue`, `red` "
        "or any hex.",
        examples=["#ffffff", "rgba(0,0,0,0.5)", "blue"],
    )
    bg_img: str | None = Field(
        None, description="`background`: base64 of a replacement background image."
    )
    bg_url: str | None = Field(
        None,
        description="`background`: address of a replacement background image "
        "(`http(s)://` or `s3://`), fetched like `url`.",
    )
    blur_strength: float | None = Field(
        None, ge=0.0, le=1.0, description="`blur`: 0 (none) to 1 (strongest); default 0.5."
    )
    crop_margin: str | int | None = Field(
        None,
        description="`crop`: space around the person: pixels (`20` or `20px`), a percentage "
        "of the person's size (`10%`), or 2-4 values in CSS order (`10px 5%`).",
    )
    id_preset: str | None = Field(
        None,
        description="`id_photo` size: `1inch` (295×413 px, default), `2inch` (413×579), "
        "`passport` (35×45 mm at 300 dpi, 413×531) or `us` (2×2 in, 600×600).",
        json_schema_extra={"enum": ["1inch", "2inch", "passport", "us"]},
    )
    refine: bool | None = Field(
        None,
        description="Refine the matte's edges against the photo (default: the server's "
        "`HUMANSEG_REFINE_EDGES`).",
    )


class SeedResponse(BaseModel):
    result: str = Field(description="Base64 of the PNG result, at the input's width and height.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable snake_case code, e.g. `image_too_large`.")
    message: str = Field(description="A sentence for people saying what went wrong.")


class ErrorResponse(BaseModel):
    error: ErrorDetail
