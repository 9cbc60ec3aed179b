"""What the HTTP server reads: where it listens, its processes, capacity, timeouts and logs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from humanseg.settings.fields import FROM_ENVIRONMENT, CsvList, cpu_count


class ServerSettings(BaseSettings):
    """Settings of ``humanseg serve`` and the API's work queue, read from ``HUMANSEG_*``."""

    model_config = FROM_ENVIRONMENT

    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8000, ge=0, le=65535, description="Port the HTTP server listens on.")
    workers: int = Field(1, ge=1, description="Number of server worker processes.")
    max_concurrency: int = Field(
        default_factory=cpu_count,
        ge=1,
        description="Images processed at once per worker process (defaults to the CPU count).",
    )
    max_queue: int = Field(
        default_factory=lambda: 4 * cpu_count(),
        ge=0,
        description="Requests that may wait for a free worker per process (defaults to 4 × CPU "
        "count); more get 503 `overloaded` at once.",
    )
    max_uploads: int = Field(
        32,
        ge=1,
        description="Request bodies received at once per process; a request joins the work "
        "queue only once its body is complete, so slow uploads hold no processing slot. More "
        "get 503 `overloaded` at once.",
    )
    request_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds one request may take in all (waiting, upload, download, "
        "processing); over it the answer is 504 `request_timeout`.",
    )
    keepalive_timeout: float = Field(
        5.0, gt=0, description="Seconds an idle keep-alive connection stays open."
    )
    models: CsvList = Field(
        default_factory=list,
        description="Comma-separated models and pipelines requests may name (pulled when the "
        "server starts). Empty: HUMANSEG_MODEL plus the Apache-2.0 models already in the model "
        "folder and the pipelines made of them. Opt-in (e.g. AGPL) models are served only when "
        "named here or in HUMANSEG_MODEL.",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    log_format: Literal["json", "text"] = Field(
        "json", description="Log lines as JSON objects (with the request id) or plain text."
    )
