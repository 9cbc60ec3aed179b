"""Independent model passes of one request, run side by side on otherwise idle cores.

The small LiteRT models run single-threaded (``runtimes.session_threads``), so one request
leaves the other cores idle while its passes run one after another: a mirror-image pass, or
the members of a pipeline that need nothing from each other. ``Passes.run`` gives all but the
first to a small shared pool and takes back, on the calling thread, any that no worker has
started by the time its own is done. A busy server (every worker taken by other requests)
thus runs them in turn, as before, instead of waiting for a worker; and a pass that itself
asks for passes side by side can never wait on work that nobody runs.

The results are the same either way: each pass has its own model session and inputs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from humanseg.settings.fields import cpu_count


class Passes:
    """Runs independent calls side by side on up to ``workers`` threads besides the caller's;
    0 workers: one after another."""

    def __init__(self, workers: int) -> None:
        self.workers = max(0, workers)
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @classmethod
    def for_cores(cls, threads: int = 0, *, enabled: bool = True) -> Passes:
        """One worker per core beyond the caller's, of ``threads`` cores (0: every core:
        ``PipelineSettings.inference_threads``); none when not ``enabled``
        (``PipelineSettings.parallel_passes``)."""
        cores = threads if threads > 0 else cpu_count()
        return cls(cores - 1 if enabled else 0)

    def run(self, *calls: Callable[[], Any]) -> list[Any]:
        """Each call's result, in order. Where calls fail, the first one's exception (in that
        order) is raised once every started call has ended; calls not started by then are
        dropped."""
        if self.workers == 0 or len(calls) < 2:
            return [call() for call in calls]
        pool = self._pool()
        futures: list[Future[Any]] = [pool.submit(call) for call in calls[1:]]
        outcomes: list[Future[Any]] = [_outcome(calls[0])]
        # every call no worker has started yet runs here, before waiting for any that one has
        for call, future in zip(calls[1:], futures, strict=True):
            failed = any(_failed(outcome) for outcome in outcomes if outcome.done())
            if future.cancel():
                outcomes.append(_cancelled() if failed else _outcome(call))
            else:
                outcomes.append(future)
        for outcome in outcomes:  # every call has ended before anything is raised
            if not outcome.cancelled():
                outcome.exception()
        for outcome in outcomes:
            if _failed(outcome):
                raise outcome.exception()  # type: ignore[misc]
        return [outcome.result() for outcome in outcomes]

    def _pool(self) -> ThreadPoolExecutor:
        # a forked child has the executor but not its threads: it makes its own
        if self._executor is None or self._pid != os.getpid():
            with self._lock:
                if self._executor is None or self._pid != os.getpid():
                    self._executor = ThreadPoolExecutor(
                        max_workers=self.workers, thread_name_prefix="humanseg-pass"
                    )
                    self._pid = os.getpid()
        return self._executor


def _outcome(call: Callable[[], Any]) -> Future[Any]:
    """``call`` run here, its result or exception held as a finished future's."""
    future: Future[Any] = Future()
    try:
        future.set_result(call())
    except Exception as exc:
        future.set_exception(exc)
    return future


def _failed(outcome: Future[Any]) -> bool:
    return not outcome.cancelled() and outcome.exception() is not None


def _cancelled() -> Future[Any]:
    """A call left unrun: another has already failed."""
    future: Future[Any] = Future()
    future.cancel()
    return future
