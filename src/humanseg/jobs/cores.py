"""The one rule for sharing CPU cores between the processes that run the model.

Each of ``processes`` workers on ``cpus`` CPUs gets an equal share as inference threads, so
they do not oversubscribe the cores; an ``inference_threads`` the user set is each worker's.
Used by the process pool, this process when it runs a job alone, Ray Data actors and Ray
Serve replicas.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from humanseg.settings import Settings


def machine_cpus() -> int:
    return max(1, os.cpu_count() or 1)


def shared_cores(
    explicit: dict[str, Any], *, cpus: float, processes: int = 1, concurrency: int | None = None
) -> dict[str, Any]:
    """``explicit`` settings plus one worker's share: its inference threads and, for a
    server, how many requests it runs at a time (``concurrency``)."""
    threads = max(1, int(cpus) // max(1, processes))
    share = {**explicit, "inference_threads": explicit.get("inference_threads", threads)}
    if concurrency is not None:
        share["max_concurrency"] = concurrency
    return share


def worker_settings(settings: Settings, *, processes: int, cpus: float | None = None) -> Settings:
    """``settings`` for one of ``processes`` local workers (each takes one image at a time)."""
    pipeline = settings.pipeline
    explicit = pipeline.model_dump(include=pipeline.model_fields_set)
    share = shared_cores(explicit, cpus=cpus or machine_cpus(), processes=processes)
    return replace(settings, pipeline=pipeline.model_copy(update=share))
