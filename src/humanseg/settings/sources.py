"""What fetching an input reads: url downloads and S3."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from humanseg.settings.fields import FROM_ENVIRONMENT, CsvList


class SourceSettings(BaseSettings):
    """Settings of ``humanseg.sources`` (url and ``s3://`` inputs), read from ``HUMANSEG_*``."""

    model_config = FROM_ENVIRONMENT

    max_download_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Largest image fetched from a url or S3, in bytes (a clip: "
        "HUMANSEG_VIDEO_MAX_BYTES).",
    )
    url_connect_timeout: float = Field(5.0, gt=0, description="Seconds to connect to a url.")
    url_read_timeout: float = Field(15.0, gt=0, description="Seconds to wait for url data.")
    url_total_timeout: float = Field(30.0, gt=0, description="Seconds for a whole url download.")
    url_max_redirects: int = Field(5, ge=0, description="Redirects followed for a url.")
    url_allowlist: CsvList = Field(
        default_factory=list,
        description=(
            "Comma-separated hosts or CIDRs that url inputs may reach even though they are "
            "loopback, private or otherwise non-public (refused by default)."
        ),
    )
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible store (MinIO, Ceph, moto...)."
    )
    s3_allowed_buckets: CsvList = Field(
        default_factory=list,
        description="Comma-separated buckets that s3:// inputs may read (empty: any bucket).",
    )
