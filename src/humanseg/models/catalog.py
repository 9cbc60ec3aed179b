"""The model catalog: every model humanseg knows, one small module each under ``specs/``.

Adding a model is adding a ``ModelSpec`` module; only behaviour that is really new needs code.
Sources are tried in order until one yields a file whose checksum matches.
"""

from __future__ import annotations

from humanseg.errors import ErrorCode, error
from humanseg.models.spec import (
    WHEEL_PLATFORM,
    WHEEL_PYTHON_VERSION,
    ModelSpec,
    NpmTarball,
    PipWheelMember,
    Postprocess,
    Preprocess,
    Source,
    UrlSource,
)
from humanseg.models.specs import SPECS
from humanseg.models.specs.faces import FACE_DETECTION

__all__ = [
    "CATALOG",
    "FACE_DETECTION",
    "WHEEL_PLATFORM",
    "WHEEL_PYTHON_VERSION",
    "ModelSpec",
    "NpmTarball",
    "PipWheelMember",
    "Postprocess",
    "Preprocess",
    "Source",
    "UrlSource",
    "get_spec",
]

CATALOG: dict[str, ModelSpec] = {spec.name: spec for spec in SPECS}


def get_spec(name: str) -> ModelSpec:
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise error(
            ErrorCode.UNKNOWN_MODEL, f"Unknown model {name!r}; known models: {known}."
        ) from None
