"""What video reads (`humanseg video`): limits checked before any frame, encoders, steadiness."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from humanseg.settings.fields import FROM_ENVIRONMENT, cache_dir


class VideoSettings(BaseSettings):
    """Video limits and encoding, read from ``HUMANSEG_VIDEO_*``. The limits are checked
    against the container's header before any frame is decoded, and again while decoding,
    since a header can understate."""

    model_config = FROM_ENVIRONMENT

    video_max_bytes: int = Field(
        512 * 1024 * 1024,
        ge=1,
        description="Largest video file accepted (uploaded, or fetched from a url or S3), "
        "in bytes.",
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
    video_model_every: int = Field(
        2,
        ge=1,
        le=10,
        description="With steady edges, run the model on every Nth frame only; the frames "
        "between carry the matte along the motion, and a cut or a sudden change gets its own "
        "matte. 1: the model on every frame.",
    )
    video_jobs_dir: Path = Field(
        default_factory=lambda: cache_dir() / "video-jobs",
        description="Folder of the HTTP video jobs: each job's state, input and result "
        "(default: $XDG_CACHE_HOME/humanseg/video-jobs). Worker processes on one machine "
        "share it; it must be on a local disk.",
    )
    video_job_retention: float = Field(
        86400.0,
        gt=0,
        description="Seconds a finished video job (its result) is kept, then deleted.",
    )
    video_job_concurrency: int = Field(
        1,
        ge=1,
        description="Video jobs rendered at once by each server process, apart from image "
        "requests.",
    )
    video_job_queue: int = Field(
        16,
        ge=0,
        description="Video jobs that may wait for a slot in each server process; more: 503 "
        "`overloaded`.",
    )
