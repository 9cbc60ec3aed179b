"""What every command shares: settings from flags, the model folder option, one way to fail."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from humanseg.errors import HumansegError
from humanseg.settings import InvalidSettings, Settings, load_settings


def settings_from_flags(**flags: Any) -> Settings:
    """Settings from HUMANSEG_* with the flags given (not None) winning over them."""
    try:
        return load_settings(**flags)
    except InvalidSettings as exc:
        raise click.ClickException(f"invalid setting: {exc}") from None


def fail(exc: HumansegError) -> NoReturn:
    """One line for a failure with an error code, and exit status 1."""
    click.echo(f"error [{exc.code}]: {exc.message}", err=True)
    sys.exit(1)


def model_dir_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--model-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Model cache folder [env: HUMANSEG_MODEL_DIR].",
    )(function)


def ray_module(name: str) -> Any:
    """A module of ours that needs Ray, or one clear sentence if the extra is missing."""
    try:
        importlib.import_module("ray")
    except ImportError:
        raise click.ClickException(
            "--ray needs the [ray] extra: pip install 'humanseg[ray]'."
        ) from None
    return importlib.import_module(name)
