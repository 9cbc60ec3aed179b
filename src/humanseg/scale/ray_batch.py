"""The ``--ray`` runner: a Ray Data pipeline over the keys, through a pool of actors.

Each actor holds one ``Worker`` (one Pipeline, one model session) for its life and is given
``ray_num_cpus`` / ``ray_num_gpus``. An actor that dies is restarted and its batch is retried on
it (Ray Data's defaults for actor pools: unlimited restarts and retries); outputs are written
atomically, so a retried batch overwrites whole files with whole files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from humanseg import allocator
from humanseg.scale.job import BatchJob, Worker
from humanseg.scale.manifest import Entry
from humanseg.settings import RaySettings

BATCH_SIZE = 8  # small, so a retried batch redoes little work
_FIELDS = ("key", "status", "output", "code", "message")


class SegmentActor:
    def __init__(self, job: BatchJob, overrides: dict[str, Any]) -> None:
        allocator.tune_process("ray batch actor")  # the actor's process starts serving here
        self.worker = Worker(job, job.build_settings(**overrides))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
        entries = [self.worker.process(str(key)) for key in batch["key"]]
        return {name: [getattr(entry, name) or "" for entry in entries] for name in _FIELDS}


def actor_overrides(job: BatchJob, num_cpus: float) -> dict[str, Any]:
    """One image at a time per actor, with as many inference threads as CPUs it reserved."""
    overrides: dict[str, Any] = {}
    if "inference_threads" not in job.settings:
        overrides["inference_threads"] = max(1, int(num_cpus))
    return overrides


def run_ray(job: BatchJob, keys: list[str], *, workers: int) -> Iterator[Entry]:
    """Yield one entry per key; needs ``ray.init`` to have been called."""
    import ray.data

    settings = job.build_settings()
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the caller shows one bar for the whole job
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    dataset = ray.data.from_items([{"key": key} for key in keys]).map_batches(
        SegmentActor,
        fn_constructor_kwargs={
            "job": job,
            "overrides": actor_overrides(job, settings.ray.ray_num_cpus),
        },
        batch_size=BATCH_SIZE,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=settings.ray.ray_num_cpus,
        num_gpus=settings.ray.ray_num_gpus,
    )
    for row in dataset.iter_rows():
        yield Entry(**{name: str(row[name]) or None for name in _FIELDS})  # type: ignore[arg-type]


def default_actors(settings: RaySettings) -> int:
    """As many actors as the cluster's CPUs (or GPUs, for GPU actors) hold right now."""
    import ray

    resources = ray.cluster_resources()
    if settings.ray_num_gpus > 0:
        return max(1, int(resources.get("GPU", 0) / settings.ray_num_gpus))
    return max(1, int(resources.get("CPU", 1) / settings.ray_num_cpus))


def init_ray(address: str | None) -> bool:
    """Join ``address`` (or $RAY_ADDRESS, or start a local instance). True if we started it."""
    import ray

    if ray.is_initialized():
        return False
    ray.init(address=address or None, logging_level=logging.WARNING, log_to_driver=False)
    return True
