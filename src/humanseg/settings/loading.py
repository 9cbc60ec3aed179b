"""Every concern's settings at once, from the environment plus explicit overrides.

A process builds them once where it starts (a command, a server worker, a Lambda container)
and hands each part to what reads it: ``Pipeline`` the pipeline settings, ``humanseg.sources``
the source settings, the API the server and access settings. Offline jobs read the pipeline,
source and Ray settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from humanseg.settings.access import AccessSettings
from humanseg.settings.pipeline import PipelineSettings
from humanseg.settings.ray import RaySettings
from humanseg.settings.server import ServerSettings
from humanseg.settings.sources import SourceSettings
from humanseg.settings.video import VideoSettings


class InvalidSettings(ValueError):
    """Values that do not validate, each named by its environment variable."""


@dataclass(frozen=True)
class Settings:
    """The settings of every concern; ``Settings()`` reads them all from ``HUMANSEG_*``."""

    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    sources: SourceSettings = field(default_factory=SourceSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    ray: RaySettings = field(default_factory=RaySettings)
    video: VideoSettings = field(default_factory=VideoSettings)

    def explicit(self) -> dict[str, Any]:
        """The values set in the environment or by overrides, by field name: what another
        process needs to build the same settings with ``load_settings(**explicit)``."""
        values: dict[str, Any] = {}
        for part in fields(self):
            values |= getattr(self, part.name).model_dump(exclude_unset=True)
        return values


# the parts of ``Settings``, by attribute name
CONCERNS: dict[str, type[BaseSettings]] = {
    "pipeline": PipelineSettings,
    "sources": SourceSettings,
    "server": ServerSettings,
    "access": AccessSettings,
    "ray": RaySettings,
    "video": VideoSettings,
}


def setting_fields() -> dict[str, FieldInfo]:
    """Every setting's field (``FieldInfo``) by name, concern by concern."""
    return {name: info for kind in CONCERNS.values() for name, info in kind.model_fields.items()}


def load_settings(**overrides: Any) -> Settings:
    """Settings from ``HUMANSEG_*`` with ``overrides`` (by field name) winning; ``None`` values
    are left out, so unset command-line flags fall back to the environment. The environment
    is only read, never written."""
    given = {name: value for name, value in overrides.items() if value is not None}
    unknown = set(given) - set(setting_fields())
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    parts: dict[str, BaseSettings] = {}
    problems: list[str] = []
    for concern, kind in CONCERNS.items():
        try:
            parts[concern] = kind(**{k: v for k, v in given.items() if k in kind.model_fields})
        except ValidationError as exc:
            problems += [
                f"HUMANSEG_{'.'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                for e in exc.errors()
            ]
    if problems:
        raise InvalidSettings("; ".join(problems))
    return Settings(**parts)  # type: ignore[arg-type]
