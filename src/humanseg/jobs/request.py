"""What a job asks for, in the seed API's fields: made locally into an ``OutputSpec``, or sent
as they are to a remote humanseg server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from humanseg.outputs import OutputSpec
from humanseg.schema import parse_output_spec


@dataclass(frozen=True)
class OutputRequest:
    type: str | None = None  # None or "": the alpha matte
    format: str | None = None  # None: PNG
    bg_color: str | None = None
    bg_image: bytes | None = field(default=None, repr=False)
    blur_strength: float | None = None
    crop_margin: str | None = None
    id_preset: str | None = None
    refine: bool | None = None
    keep_every_part: bool | None = None

    def spec(self) -> OutputSpec:
        """The pipeline's specification; every bad value raises its own error code."""
        return parse_output_spec(
            self.type or None,
            format=self.format,
            bg_color=self.bg_color,
            bg_image=self.bg_image,
            blur_strength=self.blur_strength,
            crop_margin=self.crop_margin,
            id_preset=self.id_preset,
            refine=self.refine,
            keep_every_part=self.keep_every_part,
        )

    def client_fields(self) -> dict[str, Any]:
        """``Client.segment``'s keyword arguments for the same output."""
        return {
            "format": self.format,
            "bg_color": self.bg_color,
            "bg_img": self.bg_image,
            "blur_strength": self.blur_strength,
            "crop_margin": self.crop_margin,
            "id_preset": self.id_preset,
            "refine": self.refine,
            "keep_every_part": self.keep_every_part,
        }
