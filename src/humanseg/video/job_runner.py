"""Runs the stored video jobs on their own bounded thread pool, apart from image work.

At most ``video_job_concurrency`` jobs render at once and ``video_job_queue`` more wait; a
cancelled job stops at its next frame (``render_video`` removes the partial file). Finished
jobs are deleted once older than ``video_job_retention``, at start and then periodically.
When the process stops, running jobs stop where they are and stay ``running`` on disk, so the
next start queues them again (:meth:`JobStore.recover`).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.outputs import OutputSpec
from humanseg.pipeline import Pipeline
from humanseg.schema import parse_output_spec
from humanseg.settings import VideoSettings
from humanseg.video.formats import VideoFormat, VideoKind, choose_format
from humanseg.video.frames import check_video_spec
from humanseg.video.jobs_store import JobState, JobStore, VideoJob
from humanseg.video.render import render_video

log = logging.getLogger(__name__)
# the longest a running job goes without its progress saved
_PROGRESS_SECONDS = 0.5


class _Stopped(Exception):
    """Raised from a job's progress callback to end its render at the current frame."""


def job_output(
    request: dict[str, Any], video: VideoSettings
) -> tuple[VideoKind, OutputSpec, VideoFormat]:
    """What a job's fields ask for, each field checked: the errors a submission answers with
    before anything is fetched."""
    try:
        kind = VideoKind(request.get("type") or VideoKind.FOREGROUND.value)
    except ValueError:
        allowed = ", ".join(kind.value for kind in VideoKind)
        raise error(ErrorCode.INVALID_TYPE, f"A video job's `type` is one of {allowed}.") from None
    spec = parse_output_spec(
        kind.output_type.value,
        bg_color=request.get("bg_color"),
        blur_strength=request.get("blur_strength"),
    )
    check_video_spec(spec)
    suffix = request.get("format")
    fmt = choose_format(kind, f".{suffix}" if suffix else None, allow_h264=video.video_h264)
    return kind, spec, fmt


class JobRunner:
    def __init__(self, store: JobStore, pipeline: Pipeline, video: VideoSettings) -> None:
        self.store = store
        self.pipeline = pipeline
        self.video = video
        self._capacity = video.video_job_concurrency + video.video_job_queue
        self._executor = ThreadPoolExecutor(
            max_workers=video.video_job_concurrency, thread_name_prefix="humanseg-video"
        )
        self._lock = threading.Lock()  # every state change of a job in this process
        self._cancelled: dict[str, threading.Event] = {}  # the jobs queued or running here
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        """Expire old results, queue again what the last process left, start the sweeper."""
        self.store.expire(self.video.video_job_retention)
        for job in self.store.recover():
            log.info("video job %s queued again after a restart", job.id)
            self._enqueue(job.id)
        self._sweeper = threading.Thread(
            target=self._sweep, name="humanseg-video-expiry", daemon=True
        )
        self._sweeper.start()

    def check_room(self) -> None:
        """503 ``overloaded`` if the queue is full (checked before an upload is stored)."""
        with self._lock:
            full = len(self._cancelled) >= self._capacity
        if full:
            raise error(
                ErrorCode.OVERLOADED,
                f"The server is busy: {self._capacity} video jobs are already running or "
                "waiting (HUMANSEG_VIDEO_JOB_CONCURRENCY, HUMANSEG_VIDEO_JOB_QUEUE). Retry later.",
            )

    def submit(self, job: VideoJob) -> None:
        """Save ``job`` (its input already stored) as queued and queue it."""
        self.check_room()
        job.state = JobState.QUEUED
        with self._lock:
            self.store.save(job)
        self._enqueue(job.id)

    def cancel(self, job_id: str) -> VideoJob:
        """Cancel a queued or running job: it is ``cancelled`` at once and its render stops at
        the next frame. A finished job is returned as it is."""
        with self._lock:
            job = self.store.load(job_id)
            if job.state.finished:
                return job
            event = self._cancelled.get(job_id)
            if event is not None:
                event.set()
            job.state = JobState.CANCELLED
            job.finished = time.time()
            self.store.save(job)
        self.store.input_path(job_id).unlink(missing_ok=True)
        return job

    def shutdown(self) -> None:
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _enqueue(self, job_id: str) -> None:
        with self._lock:
            self._cancelled[job_id] = threading.Event()
        self._executor.submit(self._run, job_id)

    def _sweep(self) -> None:
        interval = min(60.0, max(0.5, self.video.video_job_retention / 2))
        while not self._stopping.wait(interval):
            try:
                for job_id in self.store.expire(self.video.video_job_retention):
                    log.info("video job %s expired", job_id)
            except OSError:
                log.exception("video jobs could not be expired")

    def _cancelled_on_disk(self, job_id: str) -> bool:
        """Cancelled through another server process on the same folder (or deleted)."""
        try:
            return self.store.load(job_id).state is JobState.CANCELLED
        except HumansegError:
            return True

    def _run(self, job_id: str) -> None:
        try:
            self._render(job_id)
        except Exception:
            log.exception("video job %s failed", job_id)
        finally:
            with self._lock:
                self._cancelled.pop(job_id, None)

    def _render(self, job_id: str) -> None:
        cancelled = self._cancelled[job_id]
        with self._lock:
            job = self.store.load(job_id)
            if job.state is not JobState.QUEUED or self._stopping.is_set():
                return
            job.state = JobState.RUNNING
            self.store.save(job)
        last_saved = 0.0

        def progress(done: int, total: int | None) -> None:
            nonlocal last_saved
            if cancelled.is_set() or self._stopping.is_set():
                raise _Stopped
            now = time.monotonic()
            if now - last_saved < _PROGRESS_SECONDS and done != total:
                return
            last_saved = now
            with self._lock:
                if cancelled.is_set() or self._cancelled_on_disk(job_id):
                    raise _Stopped
                job.frames_done, job.frames_total = done, total
                self.store.save(job)

        result_path = self.store.result_path(job)
        try:
            kind, spec, _fmt = job_output(job.request, self.video)
            result = render_video(
                self.pipeline,
                self.store.input_path(job_id),
                result_path,
                kind,
                spec,
                video=self.video,
                model=job.request.get("model") or None,
                progress=progress,
            )
        except _Stopped:
            return  # cancelled (already saved as such) or stopping (resumed at the next start)
        except HumansegError as exc:
            outcome: tuple[ErrorCode, str] | None = (exc.code, exc.message)
        except Exception as exc:
            log.exception("video job %s failed", job_id)
            outcome = (ErrorCode.INTERNAL_ERROR, f"The video could not be made: {exc}.")
        else:
            outcome = None
        with self._lock:
            if cancelled.is_set() or self._cancelled_on_disk(job_id):
                result_path.unlink(missing_ok=True)
                return
            if outcome is None:
                job.state = JobState.DONE
                job.finished = time.time()
                job.frames_done = result.frames
                job.frames_total = result.frames
                job.result_bytes = result_path.stat().st_size
            else:
                job.fail(*outcome)
            self.store.save(job)
        self.store.input_path(job_id).unlink(missing_ok=True)
