"""Runs the stored video jobs on their own bounded thread pool, apart from image work.

At most ``video_job_concurrency`` jobs render at once in a process and ``video_job_queue``
more wait; a cancelled job stops at its next frame (``render_video`` removes the partial
file). Every server process on the same jobs folder runs one of these: a job runs in the
process that holds its claim (the one it was submitted to), and status, cancel and download
go through the folder, so any process answers for any job. When a process stops, its running
jobs stop where they are and stay ``running`` on disk; a process that finds a job no live
process holds (at its start, then every few seconds) takes it over and runs it again
(:meth:`JobStore.recover`). Finished jobs are deleted once older than ``video_job_retention``.
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
from humanseg.video.jobs_store import Claim, JobState, JobStore, VideoJob
from humanseg.video.render import render_video

log = logging.getLogger(__name__)
# the longest a running job goes without its progress saved
_PROGRESS_SECONDS = 0.5
# how often a process looks for jobs whose owner died (and for expired results)
_SWEEP_SECONDS = 5.0


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
        self._lock = threading.Lock()  # guards the two dicts
        self._cancelled: dict[str, threading.Event] = {}  # the jobs queued or running here
        self._claims: dict[str, Claim] = {}  # their claims, held until each ends
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        """Expire old results, take over what no live process holds, start the sweeper."""
        self.store.expire(self.video.video_job_retention)
        self._recover()
        self._sweeper = threading.Thread(
            target=self._sweep, name="humanseg-video-sweeper", daemon=True
        )
        self._sweeper.start()

    def _room(self) -> int:
        with self._lock:
            return self._capacity - len(self._cancelled)

    def check_room(self) -> None:
        """503 ``overloaded`` if this process's queue is full (checked before an upload is
        stored)."""
        if self._room() <= 0:
            raise error(
                ErrorCode.OVERLOADED,
                f"The server is busy: {self._capacity} video jobs are already running or "
                "waiting (HUMANSEG_VIDEO_JOB_CONCURRENCY, HUMANSEG_VIDEO_JOB_QUEUE). Retry later.",
            )

    def submit(self, job: VideoJob, claim: Claim) -> None:
        """Save ``job`` (its input already stored under ``claim``) as queued and queue it."""
        self.check_room()
        job.state = JobState.QUEUED
        self.store.save(job)  # its first state: no other process looks at it before this
        self._enqueue(job.id, claim)

    def cancel(self, job_id: str) -> VideoJob:
        """Cancel a queued or running job, whichever process runs it: it is ``cancelled`` on
        disk at once and its render stops at the next frame (at once if it runs here, within
        a progress save if elsewhere). A finished job is returned as it is."""
        with self.store.locked(job_id) as job:
            if job.state.finished:
                return job
            job.state = JobState.CANCELLED
            job.finished = time.time()
            self.store.save(job)
        with self._lock:
            event = self._cancelled.get(job_id)
        if event is not None:
            event.set()
        self.store.input_path(job_id).unlink(missing_ok=True)
        return job

    def shutdown(self) -> None:
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            claims, self._claims = list(self._claims.values()), {}
        for claim in claims:  # queued here, never started: free for the next process
            claim.release()

    def _enqueue(self, job_id: str, claim: Claim) -> None:
        with self._lock:
            self._cancelled[job_id] = threading.Event()
            self._claims[job_id] = claim
        self._executor.submit(self._run, job_id)

    def _recover(self) -> None:
        if self._stopping.is_set():
            return
        for job, claim in self.store.recover(room=max(0, self._room())):
            log.info("video job %s taken over: its last process stopped", job.id)
            self._enqueue(job.id, claim)

    def _sweep(self) -> None:
        expire_every = min(60.0, max(0.5, self.video.video_job_retention / 2))
        last_expiry = time.monotonic()
        while not self._stopping.wait(min(_SWEEP_SECONDS, expire_every)):
            try:
                self._recover()
                if time.monotonic() - last_expiry >= expire_every:
                    last_expiry = time.monotonic()
                    for job_id in self.store.expire(self.video.video_job_retention):
                        log.info("video job %s expired", job_id)
            except Exception:  # the sweeper must outlive a bad folder
                log.exception("video jobs could not be swept")

    def _run(self, job_id: str) -> None:
        try:
            self._render(job_id)
        except Exception:
            log.exception("video job %s failed", job_id)
        finally:
            with self._lock:
                self._cancelled.pop(job_id, None)
                claim = self._claims.pop(job_id, None)
            if claim is not None:
                claim.release()

    def _render(self, job_id: str) -> None:
        cancelled = self._cancelled[job_id]
        if self._stopping.is_set():
            return
        with self.store.locked(job_id) as job:
            if job.state is not JobState.QUEUED:
                return  # cancelled while it waited
            job.state = JobState.RUNNING
            job.renders += 1
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
            try:
                with self.store.locked(job_id) as current:
                    if current.state is not JobState.RUNNING:
                        raise _Stopped  # cancelled through another process
                    current.frames_done, current.frames_total = done, total
                    self.store.save(current)
            except HumansegError:
                raise _Stopped from None  # deleted

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
        try:
            with self.store.locked(job_id) as job:
                if job.state is not JobState.RUNNING:  # cancelled meanwhile
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
        except HumansegError:
            return  # deleted meanwhile
        self.store.input_path(job_id).unlink(missing_ok=True)
