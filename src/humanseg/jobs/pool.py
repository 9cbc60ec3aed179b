"""The crash-tolerant process pool: local processes, each holding one ``Worker``.

If a worker process dies (killed, out of memory), the pool is rebuilt and the items that were
in flight are queued again; an item in flight during ``MAX_CRASHES`` deaths is marked failed
so a poison image cannot stall the job. Outputs are written atomically, so nothing is
half-written.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from humanseg.errors import ErrorCode, error
from humanseg.jobs.manifest import Entry
from humanseg.jobs.plan import Item
from humanseg.jobs.worker import Task, Worker, failure

MAX_CRASHES = 3
log = logging.getLogger(__name__)


class _ProcessWorker:
    """The one ``Worker`` of a pool process. A pool's initializer and its tasks are separate
    calls into the process, so the worker they share lives on this class, per process."""

    current: Worker | None = None

    @classmethod
    def start(cls, task: Task) -> None:
        from humanseg import allocator

        allocator.tune_process("job worker")
        cls.current = Worker(task)

    @classmethod
    def process(cls, item: Item) -> Entry:
        assert cls.current is not None, "worker not initialised"
        return cls.current.process(item)


def run_pool(task: Task, items: list[Item], *, workers: int) -> Iterator[Entry]:
    """Yield one entry per item, in completion order. ``task.settings`` should already hold
    each worker's share of the cores (``cores.worker_settings``)."""
    # spawn: boto3 clients and sessions are not fork-safe, nor is this (threaded) process
    context = multiprocessing.get_context("spawn")
    pending = deque(items)
    crashes: Counter[str] = Counter()
    fruitless_pools = 0
    while pending:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_ProcessWorker.start, initargs=(task,)
        ) as pool:
            in_flight: dict[Future[Entry], Item] = {}
            finished = 0
            broken = False
            while (pending or in_flight) and not broken:
                while pending and len(in_flight) < 2 * workers:
                    item = pending.popleft()
                    try:
                        future = pool.submit(_ProcessWorker.process, item)
                    except BrokenProcessPool:
                        # a worker died since the last wait: this item was never sent
                        pending.appendleft(item)
                        broken = True
                        break
                    in_flight[future] = item
                if broken:
                    break
                completed, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in completed:
                    if isinstance(future.exception(), BrokenProcessPool):
                        broken = True  # a worker died: this pool is unusable, rebuild it
                        continue
                    item = in_flight.pop(future)
                    finished += 1
                    yield _entry(item, future)
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


def _entry(item: Item, future: Future[Entry]) -> Entry:
    exc = future.exception()
    return future.result() if exc is None else failure(item, exc)


def _requeue(
    in_flight: dict[Future[Entry], Item], pending: deque[Item], crashes: Counter[str]
) -> Iterator[Entry]:
    """After a pool broke: keep what finished, queue the rest again (first, in order)."""
    wait(in_flight)
    for future, item in reversed(list(in_flight.items())):
        if not isinstance(future.exception(), BrokenProcessPool):
            yield _entry(item, future)
            continue
        crashes[item.name] += 1
        if crashes[item.name] >= MAX_CRASHES:
            message = (
                f"A worker process died {crashes[item.name]} times while processing this image."
            )
            yield Entry(item.key, "failed", code=ErrorCode.INTERNAL_ERROR, message=message)
        else:
            pending.appendleft(item)
