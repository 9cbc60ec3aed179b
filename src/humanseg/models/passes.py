"""Independent model passes of one request, run side by side on otherwise idle cores.

The small LiteRT models run single-threaded (``runtimes.session_threads``), so one request
leaves the other cores idle while its passes run one after another: a mirror-image pass, or
the members of a pipeline that need nothing from each other. ``Passes.run`` gives all but the
first to a small shared pool and takes back, on the calling thread, any that no worker has
started by the time its own is done; ``Passes.start`` hands calls over while the caller does
something else (a pipeline's members, while the person gate's detectors look). A busy
server (every worker taken by other requests) thus runs them in turn, as before, instead of
waiting for a worker; and a pass that itself asks for passes side by side can never wait on
work that nobody runs.

The results are the same either way: each pass has its own model session and inputs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from typing import Any

from humanseg.settings.fields import cpu_count

# set by ``in_turn`` for the calls it surrounds, on this thread (and its passes)
_IN_TURN: ContextVar[bool] = ContextVar("humanseg_passes_in_turn", default=False)


@contextmanager
def in_turn() -> Iterator[None]:
    """Every pass asked for inside runs one after another on the caller's thread: for work
    whose other threads already keep the cores busy (a clip's decoding and encoding stages),
    where passes side by side would only contend with them."""
    token = _IN_TURN.set(True)
    try:
        yield
    finally:
        _IN_TURN.reset(token)


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
        """One worker per core beyond the caller's where the small models run single-threaded
        (``threads``, ``PipelineSettings.inference_threads``, at 0); none where each inference
        is given a number of threads instead, or when not ``enabled``
        (``PipelineSettings.parallel_passes``)."""
        return cls(cpu_count() - 1 if enabled and threads == 0 else 0)

    def run(self, *calls: Callable[[], Any]) -> list[Any]:
        """Each call's result, in order, the first call run on this thread. Where calls fail,
        the first one's exception (in that order) is raised once every started call has
        ended; calls not started by then are dropped."""
        if self.workers == 0 or len(calls) < 2 or _IN_TURN.get():
            return [call() for call in calls]
        pending = self.start(*calls[1:])
        return pending.finish([_outcome(calls[0])])

    def start(self, *calls: Callable[[], Any]) -> Pending:
        """The calls handed to the workers while this thread does something else; their
        results come from ``Pending.results`` (which runs here those no worker has started),
        or ``Pending.abandon`` drops them."""
        if self.workers == 0 or _IN_TURN.get():
            return Pending(calls, None)
        pool = self._pool()
        # each in a copy of this thread's context: what it logs keeps the request's id
        return Pending(calls, [pool.submit(copy_context().run, call) for call in calls])

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


class Pending:
    """Calls started by ``Passes.start``."""

    def __init__(
        self, calls: tuple[Callable[[], Any], ...], futures: list[Future[Any]] | None
    ) -> None:
        self._calls = calls
        self._futures = futures

    def results(self) -> list[Any]:
        """Each call's result, in order (as ``Passes.run``'s)."""
        return self.finish([])

    def abandon(self) -> None:
        """Drop the calls: those not started never run, the others end unheeded."""
        for future in self._futures or ():
            future.cancel()

    def finish(self, outcomes: list[Future[Any]]) -> list[Any]:
        """``outcomes`` (calls already run), then the pending calls' results, in order."""
        futures = self._futures or [None] * len(self._calls)
        # every call no worker has started yet runs here, before waiting for any that one has
        for call, future in zip(self._calls, futures, strict=True):
            failed = any(_failed(outcome) for outcome in outcomes if outcome.done())
            if future is None or future.cancel():
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
