"""The ``humanseg`` group and its commands."""

from __future__ import annotations

import click

from humanseg import __version__
from humanseg.commands.evaluate import evaluate
from humanseg.commands.jobs import batch, cut
from humanseg.commands.models import models
from humanseg.commands.serve import serve
from humanseg.commands.video import video


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="humanseg")
def main() -> None:
    """Human image segmentation: alpha mattes and transparent cut-outs."""


for command in (serve, cut, batch, video, models, evaluate):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()
