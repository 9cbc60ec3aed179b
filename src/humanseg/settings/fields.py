"""What the settings classes share: the ``HUMANSEG_`` prefix and comma-separated lists."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode, SettingsConfigDict

# each field ``name`` is read from ``HUMANSEG_NAME``; other variables are ignored
FROM_ENVIRONMENT = SettingsConfigDict(env_prefix="HUMANSEG_", extra="ignore")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# a list given as "a, b,c" in the environment or a flag, or as a list in code
CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]


def cpu_count() -> int:
    return max(1, os.cpu_count() or 1)


def cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "humanseg"


def default_model_dir() -> Path:
    return cache_dir() / "models"
