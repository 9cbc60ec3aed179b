"""What running on Ray reads (`serve --ray`, `batch --ray`): cluster, resources, autoscaling."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from humanseg.settings.fields import FROM_ENVIRONMENT


class RaySettings(BaseSettings):
    """Ray cluster, resources and Ray Serve autoscaling, read from ``HUMANSEG_RAY_*``."""

    model_config = FROM_ENVIRONMENT

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
