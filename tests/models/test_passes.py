"""Independent model passes side by side (``humanseg.models.passes``), and pipelines giving the
same mattes with them as without."""

from __future__ import annotations

import contextvars
import multiprocessing
import threading
import time

import numpy as np
import pytest

from humanseg.evaluation import is_empty
from humanseg.models.gate import PersonGate
from humanseg.models.matter import PresetMatter
from humanseg.models.passes import Passes, in_turn
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings
from humanseg.settings.fields import cpu_count
from tests.models.test_pipelines import _small_astronaut
from tests.support import images
from tests.support.images import assert_person_matte

WAIT = 10.0  # seconds: far longer than any call here takes when it runs at all


def test_results_come_back_in_the_calls_order() -> None:
    passes = Passes(1)
    assert passes.run(*(lambda n=n: n * n for n in range(6))) == [0, 1, 4, 9, 16, 25]
    assert passes.run() == []
    assert passes.run(lambda: "alone") == ["alone"]


def test_two_calls_run_at_the_same_time() -> None:
    # each waits for the other at the barrier: one after another, neither could pass it
    barrier = threading.Barrier(2, timeout=WAIT)
    names: list[str] = []

    def call() -> int:
        names.append(threading.current_thread().name)
        return barrier.wait()

    assert sorted(Passes(1).run(call, call)) == [0, 1]
    assert len(set(names)) == 2


def test_no_workers_runs_every_call_on_the_callers_thread() -> None:
    caller = threading.current_thread().name
    names = Passes(0).run(*(lambda: threading.current_thread().name for _ in range(3)))
    assert names == [caller] * 3
    assert Passes.for_cores(enabled=False).workers == 0
    assert Passes.for_cores(0).workers == cpu_count() - 1
    assert Passes.for_cores(1).workers == 0  # one core for each inference
    assert Passes.for_cores(3).workers == 0  # three threads for each inference instead


def test_a_busy_pool_does_not_keep_the_caller_waiting() -> None:
    """With its one worker taken by another request, the calls run on the caller's thread."""
    passes = Passes(1)
    release, started = threading.Event(), threading.Event()

    def occupy() -> None:
        started.set()
        release.wait(WAIT)

    other = threading.Thread(target=passes.run, args=(lambda: release.wait(WAIT), occupy))
    other.start()
    try:
        assert started.wait(WAIT)
        caller = threading.current_thread().name
        names = passes.run(*(lambda: threading.current_thread().name for _ in range(3)))
        assert names == [caller] * 3
    finally:
        release.set()
        other.join(WAIT)


def test_passes_asked_for_inside_a_pass_do_not_deadlock() -> None:
    passes = Passes(1)

    def inner(n: int) -> list[int]:
        return passes.run(*(lambda k=k: n + k for k in range(3)))

    assert passes.run(*(lambda n=n: inner(10 * n) for n in range(3))) == [
        [0, 1, 2],
        [10, 11, 12],
        [20, 21, 22],
    ]


def test_the_first_failure_in_order_is_raised_after_the_others_end() -> None:
    passes = Passes(1)
    started, ended = threading.Event(), threading.Event()
    later: list[str] = []

    def first() -> None:
        assert started.wait(WAIT)  # the worker has taken the second call
        raise ValueError("first")

    def second() -> None:
        started.set()
        time.sleep(0.2)
        ended.set()
        raise KeyError("second")

    with pytest.raises(ValueError, match="first"):
        passes.run(first, second, lambda: later.append("ran"))
    assert ended.is_set()  # the worker's call had ended
    assert later == []  # not started when the first failed: dropped
    with pytest.raises(KeyError):
        passes.run(lambda: None, lambda: {}["missing"])


@pytest.mark.parametrize("model", ["auto", "balanced"])
def test_a_pipeline_gives_the_same_matte_with_passes_side_by_side_or_not(model: str) -> None:
    """Each pass has its own session and input: running them side by side changes nothing."""
    mattes = []
    for parallel in (True, False):
        pipeline = Pipeline(PipelineSettings(parallel_passes=parallel))
        assert (pipeline.registry.passes.workers > 0) == (parallel and cpu_count() > 1)
        results = [
            pipeline.process(photo, model=model)
            for photo in (images.astronaut_jpeg(), _small_astronaut(), images.two_people_apart())
        ]
        mattes.append([(np.asarray(images.decode(r.data)), r.confidence) for r in results])
    for (side, side_confidence), (alone, alone_confidence) in zip(*mattes, strict=True):
        assert np.array_equal(side, alone)
        assert side_confidence == alone_confidence


def test_the_members_start_while_the_detectors_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """The members start on the person the guide found before the detectors have said; their
    work is used where the detectors let that person through, dropped where not."""
    events: list[str] = []
    start, presence = PresetMatter._start, PersonGate.presence

    def started(matter: PresetMatter, *args: object, **kwargs: object) -> object:
        events.append("members")
        return start(matter, *args, **kwargs)  # type: ignore[arg-type]

    def looked(gate: PersonGate, *args: object, **kwargs: object) -> tuple[float, int]:
        verdict = presence(gate, *args, **kwargs)  # type: ignore[arg-type]
        events.append(f"gate {verdict[0]:g}")
        return verdict

    monkeypatch.setattr(PresetMatter, "_start", started)
    monkeypatch.setattr(PersonGate, "presence", looked)
    pipeline = Pipeline(PipelineSettings(parallel_passes=True))
    pipeline.registry.passes = Passes(1)  # side by side even on one core
    pipeline.load("auto")
    events.clear()
    person = pipeline.process(images.astronaut_jpeg())
    assert events == ["members", "gate 1"]  # started once, before the verdict, and used
    assert_person_matte(np.asarray(images.decode(person.data)))
    events.clear()
    cat = pipeline.process(images.encode(images.cat()))
    assert events == ["members", "gate 0"]  # the guide saw someone; the detectors did not
    assert is_empty(np.asarray(images.decode(cat.data)))


_SHARED = Passes(1)  # a forked child inherits it, with its executor, without its threads


def test_a_forked_child_runs_its_passes_with_workers_of_its_own() -> None:
    assert _SHARED.run(lambda: 1, lambda: 2) == [1, 2]  # the parent's worker exists now
    with multiprocessing.get_context("fork").Pool(1) as pool:
        names = pool.apply(_worker_names)
    assert names[0] != names[1]  # side by side: the barrier needs both at once


def _worker_names() -> list[str]:
    barrier = threading.Barrier(2, timeout=WAIT)

    def call() -> str:
        barrier.wait()
        return threading.current_thread().name

    return _SHARED.run(call, call)


_REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")


def test_a_pass_on_a_worker_sees_the_callers_context() -> None:
    """What a pass logs keeps the request's id (a context variable) on a worker too."""
    _REQUEST.set("r-1")
    barrier = threading.Barrier(2, timeout=WAIT)

    def call() -> str:
        barrier.wait()  # both at once: one of them on a worker
        return _REQUEST.get()

    assert Passes(1).run(call, call) == ["r-1", "r-1"]


def test_in_turn_runs_every_pass_on_the_callers_thread() -> None:
    """For a clip, whose own stages keep the other cores busy, passes go one after another."""
    passes, caller = Passes(1), threading.current_thread().name
    with in_turn():
        names = passes.run(*(lambda: threading.current_thread().name for _ in range(3)))
        started = passes.start(lambda: threading.current_thread().name).results()
    assert names == [caller] * 3 and started == [caller]
    barrier = threading.Barrier(2, timeout=WAIT)
    assert sorted(passes.run(barrier.wait, barrier.wait)) == [0, 1]  # side by side again
