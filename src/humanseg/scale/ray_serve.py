"""``humanseg serve --ray``: the same FastAPI app, deployed on Ray Serve.

Each replica builds the app itself (nothing heavy is pickled), loads and warms the model before
it reports ready, and reserves ``ray_num_cpus`` / ``ray_num_gpus``. With ``ray_min_replicas`` ==
``ray_max_replicas`` the replica count is fixed; otherwise Ray Serve autoscales between them,
aiming at ``ray_target_ongoing_requests`` requests in flight per replica.
"""

from __future__ import annotations

from typing import Any

from humanseg.jobs.cores import shared_cores
from humanseg.settings import RaySettings, load_settings

APP_NAME = "humanseg"


def replica_overrides(overrides: dict[str, Any], settings: RaySettings) -> dict[str, Any]:
    """A replica uses the CPUs it reserved, not the whole node's, and serves as many
    requests at a time as it has CPUs (unless ``max_concurrency`` is given)."""
    cpus = max(1, int(settings.ray_num_cpus))
    concurrency = overrides.get("max_concurrency", cpus)
    return shared_cores(overrides, cpus=cpus, concurrency=concurrency)


def deployment_options(settings: RaySettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": settings.ray_num_cpus, "num_gpus": settings.ray_num_gpus},
        "max_ongoing_requests": max(2, 2 * int(settings.ray_target_ongoing_requests)),
    }
    if settings.ray_min_replicas == settings.ray_max_replicas:
        options["num_replicas"] = settings.ray_max_replicas
    else:
        options["autoscaling_config"] = {
            "min_replicas": settings.ray_min_replicas,
            "max_replicas": settings.ray_max_replicas,
            "target_ongoing_requests": settings.ray_target_ongoing_requests,
        }
    return options


def build_application(overrides: dict[str, Any]) -> Any:
    """A Ray Serve application; ``overrides`` are the explicitly given settings."""
    from ray import serve

    settings = load_settings(**overrides)
    replica_settings = replica_overrides(overrides, settings.ray)

    def build_app() -> Any:  # runs on the replica
        from humanseg.api.app import create_app
        from humanseg.api.service import Service

        service = Service(load_settings(**replica_settings))
        service.load()
        if service.load_error is not None:
            raise service.load_error
        return create_app(service.settings, service=service)

    @serve.deployment(name=APP_NAME, **deployment_options(settings.ray))
    @serve.ingress(build_app)
    class Humanseg:
        pass

    return Humanseg.bind()  # type: ignore[attr-defined]


def start(overrides: dict[str, Any], *, blocking: bool = True) -> None:
    """Deploy on the Ray cluster in ``ray_address`` with HTTP on ``host``:``port``."""
    from ray import serve

    from humanseg.jobs.ray_data import init_ray

    settings = load_settings(**overrides)
    init_ray(settings.ray.ray_address)
    serve.start(http_options={"host": settings.server.host, "port": settings.server.port})
    serve.run(build_application(overrides), name=APP_NAME, route_prefix="/", blocking=blocking)


def app(args: dict[str, Any] | None = None) -> Any:
    """Application builder for Serve configs and ``serve run humanseg.scale.ray_serve:app``.

    ``args`` are settings by field name (``{"ray_max_replicas": "8"}``); the rest come from the
    HUMANSEG_* environment where the application is built.
    """
    return build_application(dict(args or {}))
