"""The decode and encode threads beside a clip's frame loop: order, errors, stopping."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from humanseg.video.stages import DEPTH, Behind, Prefetch


def test_prefetch_gives_every_item_in_order() -> None:
    prefetch = Prefetch(iter(range(100)))
    assert list(prefetch) == list(range(100))
    prefetch.close()


def test_prefetch_raises_the_producers_error_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("broken clip")

    prefetch = Prefetch(items())
    seen = []
    with pytest.raises(OSError, match="broken clip"):
        for item in prefetch:
            seen.append(item)
    assert seen == [1, 2]
    prefetch.close()


def test_closing_stops_a_producer_that_is_ahead() -> None:
    produced = itertools.count()
    prefetch = Prefetch(produced)  # endless: only the queue's depth holds it back
    first = next(iter(prefetch))
    prefetch.close()  # returns: the thread stopped at the full queue
    assert first == 0
    assert next(produced) <= DEPTH + 3  # it did not run on


def test_behind_consumes_every_item_in_order() -> None:
    seen: list[int] = []
    behind = Behind(seen.append)
    for item in range(50):
        behind.put(item)
    behind.finish()
    assert seen == list(range(50))
    assert behind.seconds >= 0.0


def test_behind_raises_the_consumers_error_and_writes_nothing_after_it() -> None:
    seen: list[int] = []

    def consume(item: int) -> None:
        if item == 3:
            raise OSError("disk full")
        seen.append(item)

    behind = Behind(consume)
    with pytest.raises(OSError, match="disk full"):
        for item in range(1000):
            behind.put(item)
            time.sleep(0.001)
        behind.finish()
    behind.close()
    assert seen == [0, 1, 2]


def test_behind_closes_without_waiting_for_queued_items() -> None:
    release = threading.Event()
    seen: list[int] = []

    def slow(item: int) -> None:
        release.wait(5)
        seen.append(item)

    behind = Behind(slow)
    for item in range(DEPTH):
        behind.put(item)
    release.set()
    behind.close()  # after a failure elsewhere: the queued items are dropped
    assert len(seen) < DEPTH + 1
