"""The Ray runner: a Ray Data pipeline over the items, through a pool of actors.

Each actor holds one ``Worker`` (one Pipeline, one model session) for its life and is given
``ray_num_cpus`` / ``ray_num_gpus``. An actor that dies is restarted and its batch is retried on
it (Ray Data's defaults for actor pools: unlimited restarts and retries); outputs are written
atomically, so a retried batch overwrites whole files with whole files.

Each row of the dataset is one call: up to ``BATCH_SIZE`` images, or one clip alone, so a long
clip never holds a batch of images back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from humanseg.fileio import is_video_name
from humanseg.jobs.cores import shared_cores
from humanseg.jobs.manifest import Entry
from humanseg.jobs.plan import Item
from humanseg.jobs.worker import Task, Worker
from humanseg.settings import RaySettings, load_settings

BATCH_SIZE = 8  # small, so a retried batch redoes little work
_FIELDS = ("key", "status", "output", "code", "message")  # text; "" for None


class SegmentActor:
    def __init__(self, task: Task, explicit: dict[str, Any], items: list[Any]) -> None:
        import ray

        from humanseg import allocator

        allocator.tune_process("ray job actor")  # the actor's process starts serving here
        # Settings from the explicitly given ones, so defaults such as the model folder are
        # those of the node the actor runs on.
        self.worker = Worker(replace(task, settings=load_settings(**explicit)))
        self.items: list[Item] = ray.get(items[0])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        indices = [int(index) for row in batch["indices"] for index in row]
        entries = [self.worker.process(self.items[index]) for index in indices]
        columns: dict[str, list[Any]] = {
            name: [str(getattr(entry, name) or "") for entry in entries] for name in _FIELDS
        }
        columns["confidence"] = [
            float("nan") if entry.confidence is None else entry.confidence for entry in entries
        ]
        return columns


def run_ray(task: Task, items: list[Item], *, workers: int) -> Iterator[Entry]:
    """Yield one entry per item; needs ``ray.init`` to have been called."""
    import ray
    import ray.data

    settings = task.settings
    explicit = settings.explicit()
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the caller shows one bar for the whole job
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    rows = [{"indices": indices} for indices in calls(items)]
    dataset = ray.data.from_items(rows).map_batches(
        SegmentActor,
        fn_constructor_kwargs={
            "task": task,
            "explicit": shared_cores(explicit, cpus=settings.ray.ray_num_cpus),
            "items": [ray.put(items)],  # in a list: handed over as a reference, fetched once
        },
        batch_size=1,  # one row: one call
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=settings.ray.ray_num_cpus,
        num_gpus=settings.ray.ray_num_gpus,
    )
    for row in dataset.iter_rows():
        confidence = float(row["confidence"])
        yield Entry(
            **{name: str(row[name]) or None for name in _FIELDS},  # type: ignore[arg-type]
            confidence=None if confidence != confidence else confidence,  # NaN: none
        )


def calls(items: list[Item]) -> list[list[int]]:
    """The items' indices grouped per actor call: each clip alone, images ``BATCH_SIZE`` at
    a time."""
    groups: list[list[int]] = []
    images: list[int] = []
    for index, item in enumerate(items):
        if is_video_name(item.key):
            groups.append([index])
            continue
        images.append(index)
        if len(images) == BATCH_SIZE:
            groups.append(images)
            images = []
    if images:
        groups.append(images)
    return groups


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
