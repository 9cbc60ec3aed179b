"""What every command shares: settings from flags, the model folder option, one way to fail."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from humanseg.errors import HumansegError
from humanseg.settings import Settings


def settings_from_flags(**flags: Any) -> Settings:
    """Settings from HUMANSEG_* with the flags given (not None) winning over them."""
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"HUMANSEG_{'.'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise click.ClickException(f"invalid setting: {problems}") from None


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
