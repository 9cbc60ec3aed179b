"""The one rule for sharing CPU cores between the processes that run the model.

Each of ``processes`` workers on ``cpus`` CPUs gets an equal share as inference threads, so
they do not oversubscribe the cores; an ``inference_threads`` the user set is each worker's.
Used by the process pool, this process when it runs a job alone, Ray Data actors and Ray
Serve replicas.
"""

from __future__ import annotations

import os
from typing import Any

from humanseg.settings import Settings


def machine_cpus() -> int:
    return max(1, os.cpu_count() or 1)


def shared_cores(
    explicit: dict[str, Any], *, cpus: float, processes: int = 1, concurrency: int = 1
) -> dict[str, Any]:
    """``explicit`` settings plus one worker's share: its inference threads and how many
    images it runs at a time (``concurrency``)."""
    threads = max(1, int(cpus) // max(1, processes))
    return {
        **explicit,
        "inference_threads": explicit.get("inference_threads", threads),
        "max_concurrency": concurrency,
    }


def worker_settings(settings: Settings, *, processes: int, cpus: float | None = None) -> Settings:
    """``settings`` for one of ``processes`` local workers taking one image at a time."""
    explicit = settings.model_dump(include=settings.model_fields_set)
    share = shared_cores(explicit, cpus=cpus or machine_cpus(), processes=processes)
    return settings.model_copy(update=share)
