"""Who may call the API and how much one request may send: keys, hosts, body and wire limits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from humanseg.settings.fields import FROM_ENVIRONMENT, CsvList


class AccessSettings(BaseSettings):
    """Authentication and request limits of the API, read from ``HUMANSEG_*``."""

    model_config = FROM_ENVIRONMENT

    auth: Literal["none", "api_key"] = Field(
        "none", description="Authentication: none, or api_key (a key on every request)."
    )
    api_keys: CsvList = Field(
        default_factory=list,
        repr=False,
        description="Comma-separated API keys accepted when HUMANSEG_AUTH=api_key.",
    )
    api_keys_file: Path | None = Field(
        None,
        description="File of API keys, one per line (# comments), accepted when "
        "HUMANSEG_AUTH=api_key.",
    )
    allowed_hosts: CsvList = Field(
        default_factory=list,
        description="Comma-separated host names the Host header may name (`*.example.org` for "
        "subdomains); others get 400. Empty: any host, except that `humanseg serve` bound to a "
        "loopback address allows only localhost, 127.0.0.1 and ::1.",
    )

    # the request body
    max_body_bytes: int = Field(
        96 * 1024 * 1024, ge=1024, description="Largest HTTP request body accepted, in bytes."
    )
    max_base64_chars: int = Field(
        89_478_488,
        ge=4,
        description="Longest base64 text accepted in any field (`img`, `bg_img`, "
        "`image_file_b64`), in characters (default: 64 MiB of image).",
    )

    # the wire (checked before a request reaches the app)
    max_header_bytes: int = Field(
        32 * 1024, ge=1024, description="Largest request head (all header fields), in bytes."
    )
    max_header_count: int = Field(100, ge=8, description="Most header fields in one request.")
    max_request_line: int = Field(
        8 * 1024, ge=256, description="Longest request line (method, path, query), in bytes."
    )
    client_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a client may take to send a request head, and the longest "
        "silence while it sends a body; over it the connection is answered 408 and closed.",
    )
    min_upload_rate: int = Field(
        4096,
        ge=0,
        description="Bytes per second a request body must average (judged after its first "
        "5 s); slower uploads are answered 408 and closed. 0: no minimum.",
    )
