"""The default runner: a pool of local processes, each holding one Pipeline.

If a worker process dies (killed, out of memory), the pool is rebuilt and the keys that were
in flight are queued again; a key in flight during ``MAX_CRASHES`` deaths is marked failed so a
poison image cannot stall the job. Outputs are written atomically, so nothing is half-written.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from humanseg import allocator
from humanseg.errors import ErrorCode, error
from humanseg.scale.job import BatchJob, Worker
from humanseg.scale.manifest import Entry

MAX_CRASHES = 3
log = logging.getLogger(__name__)
_worker: Worker | None = None


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def _start_worker(job: BatchJob, threads: int) -> None:
    global _worker
    allocator.tune_process("batch worker")
    overrides: dict[str, int] = {}
    if "inference_threads" not in job.settings:  # share the cores rather than oversubscribe
        overrides["inference_threads"] = threads
    _worker = Worker(job, job.build_settings(**overrides))


def _process(key: str) -> Entry:
    assert _worker is not None, "worker not initialised"
    return _worker.process(key)


def run_local(job: BatchJob, keys: list[str], *, workers: int) -> Iterator[Entry]:
    """Yield one entry per key, in completion order."""
    context = multiprocessing.get_context("spawn")  # boto3 clients and sessions are not fork-safe
    threads = max(1, default_workers() // workers)
    pending = deque(keys)
    crashes: Counter[str] = Counter()
    fruitless_pools = 0
    while pending:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(job, threads)
        ) as pool:
            in_flight: dict[Future[Entry], str] = {}
            finished = 0
            broken = False
            while (pending or in_flight) and not broken:
                while pending and len(in_flight) < 2 * workers:
                    key = pending.popleft()
                    in_flight[pool.submit(_process, key)] = key
                completed, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in completed:
                    if isinstance(future.exception(), BrokenProcessPool):
                        broken = True  # a worker died: this pool is unusable, rebuild it
                        continue
                    key = in_flight.pop(future)
                    finished += 1
                    yield _entry(key, future)
            if not broken:
                continue
            log.warning(
                "a worker process died; %d image(s) in flight are queued again", len(in_flight)
            )
            fruitless_pools = 0 if finished else fruitless_pools + 1
            if fruitless_pools >= MAX_CRASHES:
                raise error(
                    ErrorCode.INTERNAL_ERROR,
                    f"{MAX_CRASHES} worker pools in a row died before finishing any image.",
                )
            yield from _requeue(in_flight, pending, crashes)


def _entry(key: str, future: Future[Entry]) -> Entry:
    exc = future.exception()
    if exc is None:
        return future.result()
    return Entry(
        key, "failed", code=ErrorCode.INTERNAL_ERROR, message=f"{type(exc).__name__}: {exc}"
    )


def _requeue(
    in_flight: dict[Future[Entry], str], pending: deque[str], crashes: Counter[str]
) -> Iterator[Entry]:
    """After a pool broke: keep what finished, queue the rest again (first, in order)."""
    wait(in_flight)
    for future, key in reversed(list(in_flight.items())):
        if not isinstance(future.exception(), BrokenProcessPool):
            yield _entry(key, future)
            continue
        crashes[key] += 1
        if crashes[key] >= MAX_CRASHES:
            message = f"A worker process died {crashes[key]} times while processing this image."
            yield Entry(key, "failed", code=ErrorCode.INTERNAL_ERROR, message=message)
        else:
            pending.appendleft(key)
