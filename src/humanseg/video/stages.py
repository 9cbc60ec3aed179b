"""Run a clip's decode and encode beside its frames' models: each in its own thread, joined to
the frame loop by a short queue.

FFmpeg (through PyAV), OpenCV and the model runtimes let go of Python's lock while they work,
so decoding the next frame and encoding the previous one overlap with the current frame's
matte. The queues are short, so at most a few frames are held in memory; an error in either
thread is raised in the frame loop, and closing stops both threads whatever happened.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

# frames held between two stages: enough to smooth out a slow frame, few enough for memory
DEPTH = 4
_POLL = 0.1  # seconds between looks at the stop flag while a queue is full or empty


class _Done:
    """The end of a stream of items, or the error that ended it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Prefetch(Generic[T]):
    """Iterates ``items`` in a thread, ahead of the consumer; ``seconds`` is the time spent
    producing them."""

    def __init__(self, items: Iterator[T], *, name: str = "humanseg-decode") -> None:
        self._items = items
        self._queue: queue.Queue[T | _Done] = queue.Queue(DEPTH)
        self._stop = threading.Event()
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    item = next(self._items)
                except StopIteration:
                    break
                self.seconds += time.perf_counter() - started
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Done(exc))
            return
        self._put(_Done())

    def _put(self, item: T | _Done) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def close(self) -> None:
        """Stop producing and wait for the thread (it ends within one item's time)."""
        self._stop.set()
        self._thread.join()


class Behind(Generic[T]):
    """Hands items to ``consume`` in a thread, behind the producer. ``finish`` waits for
    every item and raises the consumer's error, if any; ``seconds`` is the time it took."""

    def __init__(self, consume: Callable[[T], None], *, name: str = "humanseg-encode") -> None:
        self._consume = consume
        self._queue: queue.Queue[T | _Done] = queue.Queue(DEPTH)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=_POLL)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if isinstance(item, _Done) or self._stop.is_set():
                return
            if self._error is not None:
                continue  # drain what is queued after a failure; nothing more is written
            started = time.perf_counter()
            try:
                self._consume(item)
            except BaseException as exc:  # raised in the producer at its next put or finish
                self._error = exc
            self.seconds += time.perf_counter() - started

    def put(self, item: T) -> None:
        self._raise()
        while True:
            try:
                self._queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                self._raise()
                if not self._thread.is_alive():
                    raise RuntimeError("the encoding thread ended early") from None

    def finish(self) -> None:
        """Wait until every item is consumed; raise the consumer's error."""
        self._queue.put(_Done())
        self._thread.join()
        self._raise()

    def close(self) -> None:
        """Stop without waiting for what is queued (after a failure elsewhere)."""
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_Done())
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
