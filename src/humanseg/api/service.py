"""Per-process state of the HTTP app: the pipeline, its readiness, the worker threads and
the admission control (bounded in-flight work, bounded queue, per-request time budget)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import anyio

from humanseg.api import metrics
from humanseg.api.http_errors import error_body
from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.models.presets import model_specs, served_models
from humanseg.pipeline import Output, OutputSpec, OutputType, Pipeline
from humanseg.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class Service:
    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        server = settings.server
        self.pipeline = pipeline or Pipeline(settings.pipeline, concurrency=server.max_concurrency)
        self._executor = ThreadPoolExecutor(
            max_workers=server.max_concurrency, thread_name_prefix="humanseg-work"
        )
        self._lock = threading.Lock()
        self._admitted = 0  # requests between admission and their end (or their work's end)
        self._running = 0  # of those, how many run on a worker thread now
        self._uploading = 0  # requests whose body is being received (not admitted yet)
        self._capacity = server.max_concurrency + server.max_queue
        self.served = served_models(
            settings.pipeline, server.models
        )  # fixed at start: the operator's choice
        self._ready = threading.Event()
        self.load_error: HumansegError | None = None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def load(self) -> None:
        """Pull (if needed), load and warm up the default model. Runs in a background thread."""
        try:
            self.pipeline.load()
        except HumansegError as exc:
            self.load_error = exc
            log.error("model %s could not be loaded: %s", self.settings.pipeline.model, exc.message)
            return
        except Exception as exc:
            self.load_error = error(
                ErrorCode.MODEL_UNAVAILABLE, f"The model failed to load: {exc}."
            )
            log.exception("model %s could not be loaded", self.settings.pipeline.model)
            return
        self._ready.set()
        log.info("model %s loaded and warmed up", self.settings.pipeline.model)

    def start_loading(self) -> threading.Thread:
        thread = threading.Thread(target=self.load, name="humanseg-model-load", daemon=True)
        thread.start()
        return thread

    def check_served(self, name: str) -> None:
        """400 ``unknown_model`` or ``model_not_served`` unless requests may name ``name``."""
        model_specs(name)
        if name not in self.served:
            raise error(
                ErrorCode.MODEL_NOT_SERVED,
                f"This server does not run {name!r}; it runs {', '.join(sorted(self.served))} "
                "(its operator chooses them with HUMANSEG_MODELS).",
            )

    def require_ready(self) -> None:
        if self.ready:
            return
        if self.load_error is not None:
            raise self.load_error
        raise error(
            ErrorCode.NOT_READY,
            "The model is still loading; retry in a few seconds.",
        )

    async def receive(self, read: Callable[[], Awaitable[T]]) -> T:
        """Receive a request's body with ``read``, before admission to the work queue.

        At most ``max_uploads`` bodies are received at once (more: 503 ``overloaded`` at once),
        so slow uploads can fill neither the running nor the waiting slots. The upload counts
        against the request's time budget; what is left of it applies once admitted.
        """
        with self._lock:
            refused = self._uploading >= self.settings.server.max_uploads
            if not refused:
                self._uploading += 1
        if refused:
            raise error(
                ErrorCode.OVERLOADED,
                f"The server is busy: {self.settings.server.max_uploads} uploads are already in "
                "progress. Retry in a moment.",
            )
        _DEADLINE.set(time.monotonic() + self.settings.server.request_timeout)
        try:
            with anyio.fail_after(self.settings.server.request_timeout):
                return await read()
        except TimeoutError:
            raise self._timed_out() from None
        finally:
            with self._lock:
                self._uploading -= 1

    def _timed_out(self) -> HumansegError:
        return error(
            ErrorCode.REQUEST_TIMEOUT,
            "The request took longer than its time budget of "
            f"{self.settings.server.request_timeout:g} s (HUMANSEG_REQUEST_TIMEOUT).",
        )

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Admit one request, or refuse it at once with 503 ``overloaded``.

        At most ``max_concurrency`` admitted requests run work and ``max_queue`` more wait;
        the admitted section (waiting, work) runs under what is left of ``request_timeout``.
        A request is counted until the work it started has finished, even after a timeout
        has answered it, so abandoned threads cannot push the real load past the bounds.
        """
        if _TICKET.get() is not None:  # already admitted (nested call)
            yield
            return
        with self._lock:
            if self._admitted >= self._capacity:
                refused = True
            else:
                refused = False
                self._admitted += 1
                self._publish()
        if refused:
            raise error(
                ErrorCode.OVERLOADED,
                f"The server is busy: {self._capacity} requests are already in progress or "
                "waiting. Retry in a moment.",
            )
        ticket = _Ticket(self)
        token = _TICKET.set(ticket)
        deadline = _DEADLINE.get()
        budget = self.settings.server.request_timeout
        if deadline is not None:  # the upload has used part of the budget
            budget = max(0.0, deadline - time.monotonic())
        try:
            with anyio.fail_after(budget):
                yield
        except TimeoutError:
            ticket.expired = True  # work it queued but that has not started yet is skipped
            raise self._timed_out() from None
        finally:
            _TICKET.reset(token)
            ticket.release()

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run CPU-heavy work on a worker thread (never on the event loop).

        Admits the request first if the caller has not (see :meth:`admit`).
        """
        ticket = _TICKET.get()
        if ticket is None:
            async with self.admit():
                return await self.run(function, *args)
        ticket.hold()
        context = contextvars.copy_context()  # the request id follows the work into its thread
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, context.run, self._tracked, ticket, function, *args
        )
        future.add_done_callback(ticket.work_done)
        return await asyncio.shield(future)

    def process(
        self, data: bytes, output: OutputType | OutputSpec, *, model: str | None = None
    ) -> Output:
        """The core pipeline, with its timings recorded. Call it on a worker thread."""
        started = time.perf_counter()
        result = self.pipeline.process(data, output, model=model)
        name = model or self.settings.pipeline.model
        metrics.PIPELINE_TIME.labels(model=name).observe(time.perf_counter() - started)
        metrics.MODEL_TIME.labels(model=name).observe(result.model_seconds)
        return result

    def _tracked(self, ticket: _Ticket, function: Callable[..., T], *args: object) -> T:
        if ticket.expired:
            raise error(ErrorCode.REQUEST_TIMEOUT, "The request ran out of time before it started.")
        with self._lock:
            self._running += 1
            self._publish()
        try:
            return function(*args)
        finally:
            with self._lock:
                self._running -= 1
                self._publish()

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1
            self._publish()

    def _publish(self) -> None:
        metrics.IN_FLIGHT.set(self._running)
        metrics.QUEUE_DEPTH.set(self._admitted - self._running)

    def shutdown(self) -> None:
        """Wait for work still running on worker threads (after the server stopped)."""
        self._executor.shutdown(wait=True)

    def readiness(self) -> dict[str, object]:
        if self.ready:
            models = {
                name: {"provider": segmenter.provider, "runtime": segmenter.spec.runtime}
                for name, segmenter in self.pipeline.registry.loaded().items()
            }
            return {
                "status": "ready",
                "default_model": self.settings.pipeline.model,
                "models": models,
            }
        if self.load_error is not None:
            return {"status": "failed", **error_body(self.load_error)}
        return {"status": "loading", "default_model": self.settings.pipeline.model}


@dataclass
class _Ticket:
    """One admitted request; leaves the admission count when it and its work are done."""

    service: Service
    holders: int = 1  # the request itself, plus each piece of work it started
    expired: bool = False  # answered with request_timeout

    def hold(self) -> None:
        self.holders += 1

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0:
            self.service._leave()

    def work_done(self, future: asyncio.Future[object]) -> None:
        if not future.cancelled():
            future.exception()  # retrieved, so an abandoned failure is not reported as lost
        self.release()


_TICKET: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar(
    "humanseg_ticket", default=None
)
# When the request's time budget ends (set once its body is being received).
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "humanseg_deadline", default=None
)


CONFIDENCE_HEADER = "X-Humanseg-Confidence"


def confidence_header(output: Output) -> dict[str, str]:
    """The pipeline's estimate of the result's quality, in [0, 1], as a response header."""
    if output.confidence is None:
        return {}
    return {CONFIDENCE_HEADER: f"{output.confidence:.3f}"}
