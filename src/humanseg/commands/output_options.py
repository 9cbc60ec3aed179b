"""The options that shape a job's output, from what ``humanseg.outputs`` offers, in one place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from humanseg.errors import HumansegError
from humanseg.jobs.request import OutputRequest
from humanseg.outputs import ID_PRESETS, OutputType
from humanseg.schema import FORMAT_VALUES, TYPE_VALUES, parse_output_type

TYPES = [kind.value for kind in OutputType]


def _output_type(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        parse_output_type(value)
    except HumansegError as exc:
        raise click.BadParameter(exc.message) from None
    return value


def output_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--type`` and the options of each output type."""
    options = [
        click.option(
            "--type",
            "output_type",
            type=click.Choice([value for value in TYPE_VALUES if value]),
            default="alpha",
            show_default=True,
            callback=_output_type,
            metavar="TYPE",
            help=f"What to make: {', '.join(TYPES)} (alpha: the grayscale matte; "
            "foreground: an RGBA cut-out).",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(FORMAT_VALUES, case_sensitive=False),
            default=None,
            help="Encoding of the outputs [default: png, or the suffix of an output file name].",
        ),
        click.option(
            "--bg-color",
            default=None,
            help="background, id_photo (and foreground, crop: fill behind the person): a "
            "colour, e.g. #00aaff, rgba(0,170,255,0.5) or white.",
        ),
        click.option(
            "--bg-image",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="background: a photo to put behind the person.",
        ),
        click.option(
            "--blur-strength",
            type=click.FloatRange(0.0, 1.0),
            default=None,
            help="blur: 0 (none) to 1 (strong) [default: 0.5].",
        ),
        click.option(
            "--crop-margin", default=None, help="crop: space around the person, e.g. 20px or 10%."
        ),
        click.option(
            "--id-preset",
            default=None,
            help=f"id_photo: the photo's size, one of {', '.join(ID_PRESETS)} [default: 1inch].",
        ),
        click.option(
            "--refine/--no-refine",
            default=None,
            help="Edge refinement [default: HUMANSEG_REFINE_EDGES].",
        ),
        click.option(
            "--keep-every-part/--drop-small-parts",
            default=None,
            help="Keep every separate part of the matte, e.g. everyone in a group photo "
            "[default: HUMANSEG_KEEP_EVERY_PART].",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def output_request(
    *,
    output_type: str,
    output_format: str | None,
    bg_color: str | None,
    bg_image: Path | None,
    blur_strength: float | None,
    crop_margin: str | None,
    id_preset: str | None,
    refine: bool | None,
    keep_every_part: bool | None,
) -> OutputRequest:
    """The output options as the seed API's fields."""
    return OutputRequest(
        type=None if output_type in ("", OutputType.ALPHA.value) else output_type,
        format=output_format,
        bg_color=bg_color,
        bg_image=bg_image.read_bytes() if bg_image is not None else None,
        blur_strength=blur_strength,
        crop_margin=crop_margin,
        id_preset=id_preset,
        refine=refine,
        keep_every_part=keep_every_part,
    )
