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
        "`foreground`: RGBA PNG with a transparent background.",
        json_schema_extra={"enum": ["", "foreground"]},
    )
    model: str | None = Field(
        None,
        description="Extension: the catalog model to use (see `GET /v1/models`); "
        "absent: the server's default model.",
    )


class SeedResponse(BaseModel):
    result: str = Field(description="Base64 of the PNG result, at the input's width and height.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable snake_case code, e.g. `image_too_large`.")
    message: str = Field(description="A sentence for people saying what went wrong.")


class ErrorResponse(BaseModel):
    error: ErrorDetail
