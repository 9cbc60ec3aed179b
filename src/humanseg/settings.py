"""One settings object for every front end: environment variables ``HUMANSEG_*`` and CLI flags."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_model_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "humanseg" / "models"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every tunable of humanseg. Each field ``name`` is read from ``HUMANSEG_NAME``."""

    model_config = SettingsConfigDict(env_prefix="HUMANSEG_", extra="ignore")

    # server
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8000, ge=0, le=65535, description="Port the HTTP server listens on.")
    workers: int = Field(1, ge=1, description="Number of server worker processes.")
    max_concurrency: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        description="Images processed at once per worker process (defaults to the CPU count).",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    log_format: Literal["json", "text"] = Field(
        "json", description="Log lines as JSON objects (with the request id) or plain text."
    )
    max_queue: int = Field(
        default_factory=lambda: 4 * max(1, os.cpu_count() or 1),
        ge=0,
        description="Requests that may wait for a free worker per process (defaults to 4 × CPU "
        "count); more get 503 `overloaded` at once.",
    )
    request_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds one request may take in all (waiting, upload, download, "
        "processing); over it the answer is 504 `request_timeout`.",
    )

    max_uploads: int = Field(
        32,
        ge=1,
        description="Request bodies received at once per process; a request joins the work "
        "queue only once its body is complete, so slow uploads hold no processing slot. More "
        "get 503 `overloaded` at once.",
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
    keepalive_timeout: float = Field(
        5.0, gt=0, description="Seconds an idle keep-alive connection stays open."
    )

    allowed_hosts: CsvList = Field(
        default_factory=list,
        description="Comma-separated host names the Host header may name (`*.example.org` for "
        "subdomains); others get 400. Empty: any host, except that `humanseg serve` bound to a "
        "loopback address allows only localhost, 127.0.0.1 and ::1.",
    )

    # access
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

    # models
    model: str = Field(
        "auto", description="Model or pipeline used when a request names none (`auto`: fused)."
    )
    models: CsvList = Field(
        default_factory=list,
        description="Comma-separated models and pipelines requests may name (pulled when the "
        "server starts). Empty: HUMANSEG_MODEL plus the Apache-2.0 models already in the model "
        "folder and the pipelines made of them. Opt-in (e.g. AGPL) models are served only when "
        "named here or in HUMANSEG_MODEL.",
    )
    pull_on_request: bool = Field(
        True,
        description="Pull a missing model file when a request needs it. `humanseg serve` turns "
        "it off unless set: a server pulls only at start-up, what its operator configured.",
    )
    model_dir: Path = Field(
        default_factory=default_model_dir,
        description="Cache of pulled model files (default: $XDG_CACHE_HOME/humanseg/models).",
    )
    url_sources: bool = Field(
        False,
        description="Pull models from their HTTPS URL sources (upstream release assets), "
        "which need internet access. Off: a model whose only sources are URLs is listed as "
        "unavailable until its file is placed in the model folder.",
    )
    onnx_engine: Literal["auto", "onnxruntime", "openvino"] = Field(
        "auto",
        description="What runs ONNX models. auto: onnxruntime when it has a CUDA GPU, else "
        "OpenVINO when it is installed (extra [openvino]), else onnxruntime.",
    )
    openvino_precision: Literal["bf16", "f32"] = Field(
        "bf16",
        description="OpenVINO's arithmetic. bf16 where the CPU computes it natively (f32 "
        "elsewhere): about twice as fast; results differ slightly from f32 (U²-Net-p on the "
        "dev set: mIoU 0.851 → 0.850). f32: onnxruntime's results, at its speed.",
    )
    inference_threads: int = Field(
        0,
        ge=0,
        description="Threads one model inference may use. 0 (auto): ONNX models (MODNet, "
        "U²-Net, ISNet…) use every core, which about halves their latency; the small LiteRT "
        "models use one, so concurrent requests share the cores.",
    )

    # limits
    max_image_side: int = Field(4096, ge=1, description="Longest image side accepted, in pixels.")
    max_image_pixels: int = Field(
        4096 * 4096, ge=1, description="Most pixels (width × height) accepted in one image."
    )
    max_jpeg_scans: int = Field(
        64,
        ge=1,
        description="Most scans a JPEG may have (each is a full decoding pass; progressive "
        "JPEGs have about 10); more: 422 `image_too_complex` before any decoding.",
    )
    max_body_bytes: int = Field(
        96 * 1024 * 1024, ge=1024, description="Largest HTTP request body accepted, in bytes."
    )
    max_base64_chars: int = Field(
        89_478_488,
        ge=4,
        description="Longest base64 text accepted in any field (`img`, `bg_img`, "
        "`image_file_b64`), in characters (default: 64 MiB of image).",
    )
    max_download_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest image fetched from a url or S3, in bytes."
    )

    # url / s3 sources
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

    # output
    png_compress_level: int = Field(
        1, ge=0, le=9, description="zlib level of zlib-encoded PNG outputs (1: fast, 9: smallest)."
    )
    png_fast: bool = Field(
        True,
        description="Encode RGB(A) PNGs with fpng (several times faster, larger files: "
        "+17 % on a 16 MP photo); false: zlib at HUMANSEG_PNG_COMPRESS_LEVEL.",
    )

    # ray (`humanseg serve --ray`, `humanseg batch --ray`)
    ray_address: str | None = Field(
        None,
        description="Ray cluster to use with --ray (e.g. ray://head:10001 or auto); "
        "empty: $RAY_ADDRESS, else a new local Ray instance.",
    )
    ray_num_cpus: float = Field(
        1.0, gt=0, description="CPUs reserved for each Ray Serve replica or Ray batch actor."
    )
    ray_num_gpus: float = Field(
        0.0, ge=0, description="GPUs reserved for each Ray Serve replica or Ray batch actor."
    )
    ray_min_replicas: int = Field(
        1, ge=0, description="Fewest Ray Serve replicas (autoscaling lower bound)."
    )
    ray_max_replicas: int = Field(
        1, ge=1, description="Most Ray Serve replicas (autoscaling upper bound)."
    )
    ray_target_ongoing_requests: float = Field(
        2.0, gt=0, description="Requests in flight per Ray Serve replica that autoscaling aims at."
    )

    refine_edges: bool = Field(
        False,
        description="Refine the matte's edges against the full-resolution photo (guided filter); "
        "off by default because it does not pay for the default `auto` pipeline.",
    )

    # video (`humanseg video`): checked against the container's header before any frame is
    # decoded, and again while decoding, since a header can understate
    video_max_bytes: int = Field(
        512 * 1024 * 1024, ge=1, description="Largest video file accepted, in bytes."
    )
    video_max_side: int = Field(
        3840, ge=16, description="Longest side of a video's frames, in pixels."
    )
    video_max_seconds: float = Field(600.0, gt=0, description="Longest video accepted, in seconds.")
    video_max_frames: int = Field(
        18000, ge=1, description="Most frames a video may have (10 minutes at 30 fps)."
    )
    video_h264: bool = Field(
        True,
        description="Encode `background` and `blur` videos as MP4 with H.264 (libx264, GPL) "
        "where the FFmpeg build has it; false: WebM with VP9 (libvpx, BSD) only.",
    )
    video_steady: bool = Field(
        True,
        description="Steady a video's edges with the previous frames' mattes carried along "
        "the motion (optical flow); false: every frame on its own.",
    )

    _split = field_validator(
        "url_allowlist", "s3_allowed_buckets", "api_keys", "models", "allowed_hosts", mode="before"
    )(_split_csv)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
