"""humanseg: self-hosted human image segmentation.

The names below are imported on first use, so that importing one small module of the package
(a worker process unpickling its settings, ``humanseg --version``) does not load the models'
runtimes and the HTTP client.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from humanseg.client import ApiError, AsyncClient, Client, Result
    from humanseg.errors import ErrorCode, HumansegError
    from humanseg.pipeline import Output, OutputType, Pipeline
    from humanseg.settings import PipelineSettings, Settings, load_settings

__version__ = "0.1.0"

_HOMES = {
    "ApiError": "humanseg.client",
    "AsyncClient": "humanseg.client",
    "Client": "humanseg.client",
    "Result": "humanseg.client",
    "ErrorCode": "humanseg.errors",
    "HumansegError": "humanseg.errors",
    "Output": "humanseg.pipeline",
    "OutputType": "humanseg.pipeline",
    "Pipeline": "humanseg.pipeline",
    "PipelineSettings": "humanseg.settings",
    "Settings": "humanseg.settings",
    "load_settings": "humanseg.settings",
}

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "ErrorCode",
    "HumansegError",
    "Output",
    "OutputType",
    "Pipeline",
    "PipelineSettings",
    "Result",
    "Settings",
    "__version__",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'humanseg' has no attribute {name!r}")
    return getattr(import_module(home), name)
