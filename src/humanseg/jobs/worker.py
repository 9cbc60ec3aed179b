"""The work done for each item, wherever it runs: this process, a pool process or a Ray actor.

A ``Worker`` holds one ``Pipeline`` (one model session) for its life; for each item it reads
the image, runs the core ``Pipeline.process`` and writes the result to the sink. A clip is one
item too, rendered whole by ``jobs.video``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from humanseg.errors import ErrorCode, HumansegError
from humanseg.fileio import is_video_name
from humanseg.jobs.manifest import Entry
from humanseg.jobs.plan import Item
from humanseg.jobs.request import OutputRequest
from humanseg.jobs.sinks import Sink
from humanseg.jobs.video import Progress, VideoJob, render_item
from humanseg.pipeline import Pipeline
from humanseg.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """Everything a worker needs, given explicitly (it reads no environment of its own)."""

    settings: Settings
    request: OutputRequest
    sink: Sink
    model: str | None = None
    video: VideoJob = field(default_factory=VideoJob)


class Worker:
    def __init__(self, task: Task) -> None:
        self.task = task
        self.spec = task.request.spec()
        self.pipeline = Pipeline(task.settings.pipeline, concurrency=1)
        self.pipeline.load(task.model)

    def process(self, item: Item, progress: Progress | None = None) -> Entry:
        """``progress(frames done, frames expected)`` is called along a clip."""
        if is_video_name(item.key):
            return self._clip(item, progress)
        settings = self.task.settings.sources
        try:
            data = item.read(settings)
            result = self.pipeline.process(data, self.spec, model=self.task.model)
            self.task.sink.write(item.output, result.data, result.media_type, settings)
        except Exception as exc:  # one bad image never stops the job
            return failure(item, exc)
        return done(item, result.confidence)

    def _clip(self, item: Item, progress: Progress | None) -> Entry:
        task = self.task
        try:
            render_item(
                self.pipeline,
                item,
                request=task.request,
                video=task.video,
                settings=task.settings,
                sink=task.sink,
                model=task.model,
                progress=progress,
            )
        except Exception as exc:  # one bad clip never stops the job
            return failure(item, exc)
        return done(item, None)


def done(item: Item, confidence: float | None) -> Entry:
    rounded = None if confidence is None else round(confidence, 3)
    return Entry(item.key, "done", output=item.output, confidence=rounded)


def failure(item: Item, exc: BaseException) -> Entry:
    """The entry for an item that failed: its error code, or ``internal_error`` and why."""
    if isinstance(exc, HumansegError):
        return Entry(item.key, "failed", code=exc.code, message=exc.message)
    if isinstance(exc, OSError):  # unreadable files need no traceback
        message = f"{exc.strerror or exc}: {exc.filename or item.name}"
    else:
        log.exception("unexpected failure on %s", item.name)
        message = f"{type(exc).__name__}: {exc}"
    return Entry(item.key, "failed", code=ErrorCode.INTERNAL_ERROR, message=message)


def run_in_process(task: Task, items: Iterable[Item]) -> Iterator[Entry]:
    """The runner for one worker: this process, no pool to start."""
    from humanseg import allocator

    allocator.tune_process("job worker")
    worker = Worker(task)
    for item in items:
        yield worker.process(item)
