"""humanseg: self-hosted human image segmentation."""

from humanseg.client import ApiError, AsyncClient, Client, Result
from humanseg.errors import ErrorCode, HumansegError
from humanseg.pipeline import Output, OutputType, Pipeline
from humanseg.settings import PipelineSettings, Settings, load_settings

__version__ = "0.1.0"

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
