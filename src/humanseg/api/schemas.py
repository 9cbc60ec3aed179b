"""JSON shapes of the seed API, used for validation and for the OpenAPI document.

The output fields and their allowed values come from the request schema (``humanseg.schema``);
what is the seed's own is how the image and the background photo travel (``img``/``url``,
``bg_img``/``bg_url``) and the ``model`` name.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from humanseg.schema import OutputOptions, TypeField
from humanseg.sources import Base64Text

_MODEL_DESCRIPTION = (
    "An extension of the seed API: the model or pipeline to use, e.g. `auto` (fast fusion), "
    "`quality` (slower, better), `selfie`, `modnet`, `u2netp`; `GET /v1/models` lists them all. "
    "Empty or absent: the server's default (`HUMANSEG_MODEL`). An unknown name is answered with "
    "400 `unknown_model`."
)
_IMG_DESCRIPTION = (
    "Base64 of the image bytes (JPEG, PNG or BMP; longest side at most 4096 px). "
    "A `data:image/...;base64,` prefix, line breaks and the URL-safe alphabet are accepted."
)
_URL_DESCRIPTION = "Address of the image: `http://`, `https://` or `s3://bucket/key`."


class SeedRequest(BaseModel):
    """Body of ``POST /human_image_segmentation``: exactly one of ``img`` and ``url``."""

    model_config = ConfigDict(extra="ignore")

    img: Base64Text | None = Field(None, description=_IMG_DESCRIPTION)
    url: str | None = Field(None, description=_URL_DESCRIPTION)
    type: TypeField = None
    model: str | None = Field(None, description=_MODEL_DESCRIPTION)


class SegmentationRequest(OutputOptions):
    """The seed's body plus optional fields for more outputs; the seed's fields mean the same."""

    img: Base64Text | None = Field(None, description=_IMG_DESCRIPTION)
    url: str | None = Field(None, description=_URL_DESCRIPTION)
    model: str | None = Field(None, description=_MODEL_DESCRIPTION)
    bg_img: Base64Text | None = Field(
        None, description="`background`: base64 of a replacement background image."
    )
    bg_url: str | None = Field(
        None,
        description="`background`: address of a replacement background image "
        "(`http(s)://` or `s3://`), fetched like `url`.",
    )

    @property
    def background_given(self) -> bool:
        return bool(self.bg_img or self.bg_url)


class SeedResponse(BaseModel):
    result: str = Field(description="Base64 of the PNG result, at the input's width and height.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable snake_case code, e.g. `image_too_large`.")
    message: str = Field(description="A sentence for people saying what went wrong.")


class ErrorResponse(BaseModel):
    error: ErrorDetail
