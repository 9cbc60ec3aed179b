"""Video jobs on disk: one folder per job with its state (JSON), its input and its result.

The state file is replaced atomically on every change, so a reader (or a server started after
a crash) sees one whole state. Nothing here knows about HTTP or runs a video: the API and the
runner (``humanseg.video.job_runner``) read and write jobs through :class:`JobStore`.
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.fileio import write_atomic

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
STATE_FILE = "state.json"
INPUT_FILE = "input"
RESULT_STEM = "result"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass
class VideoJob:
    """One job as its state file holds it. ``request``: the output fields asked for (type,
    model, bg_color, blur_strength, format), enough to run it again after a restart."""

    id: str
    request: dict[str, Any]
    state: JobState = JobState.QUEUED
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    finished: float | None = None
    frames_done: int = 0
    frames_total: int | None = None
    result_suffix: str = ""  # ".webm", ".mov", ".mp4", ".zip"
    result_bytes: int | None = None
    error_code: str | None = None
    error_message: str | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> VideoJob:
        values = orjson.loads(data)
        known = {item.name for item in fields(cls)}
        job = cls(**{key: value for key, value in values.items() if key in known})
        job.state = JobState(job.state)
        return job

    def fail(self, code: ErrorCode | str, message: str) -> None:
        self.state = JobState.FAILED
        self.error_code = str(code)
        self.error_message = message
        self.finished = time.time()


def new_job_id() -> str:
    return uuid.uuid4().hex


def check_job_id(job_id: str) -> str:
    """``job_id`` if it is one this store could have made (so never a path), else 404."""
    if not _JOB_ID.match(job_id):
        raise error(ErrorCode.JOB_NOT_FOUND, "No video job has this id.")
    return job_id


class JobStore:
    """The jobs under ``root``: ``root/<id>/state.json``, ``input``, ``result.<suffix>``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, job_id: str) -> Path:
        return self.root / check_job_id(job_id)

    def input_path(self, job_id: str) -> Path:
        return self.folder(job_id) / INPUT_FILE

    def result_path(self, job: VideoJob) -> Path:
        return self.folder(job.id) / f"{RESULT_STEM}{job.result_suffix}"

    def create(self, job: VideoJob, data: bytes) -> Path:
        """The job's folder with its input; the state is saved by the caller once checked."""
        folder = self.folder(job.id)
        folder.mkdir(parents=True)
        path = folder / INPUT_FILE
        path.write_bytes(data)
        return path

    def save(self, job: VideoJob) -> None:
        job.updated = time.time()
        write_atomic(self.folder(job.id) / STATE_FILE, job.to_json())

    def load(self, job_id: str) -> VideoJob:
        try:
            data = (self.folder(job_id) / STATE_FILE).read_bytes()
        except FileNotFoundError:
            raise error(ErrorCode.JOB_NOT_FOUND, "No video job has this id.") from None
        return VideoJob.from_json(data)

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def jobs(self, *, remove_unreadable: bool = False) -> list[VideoJob]:
        """Every job with a readable state, oldest first. A folder without one is a submission
        being checked (or, at start, one cut short: ``remove_unreadable`` removes those)."""
        found = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or not _JOB_ID.match(folder.name):
                continue
            try:
                found.append(self.load(folder.name))
            except (HumansegError, OSError, ValueError, TypeError):
                if remove_unreadable:
                    shutil.rmtree(folder, ignore_errors=True)
        return sorted(found, key=lambda job: job.created)

    def expire(self, retention: float, now: float | None = None) -> list[str]:
        """Delete the jobs finished more than ``retention`` seconds ago; their ids."""
        now = time.time() if now is None else now
        gone = []
        for job in self.jobs():
            if job.state.finished and (job.finished or job.updated) + retention <= now:
                self.delete(job.id)
                gone.append(job.id)
        return gone

    def recover(self) -> list[VideoJob]:
        """After a start: the jobs left queued or running by the last process, queued again,
        or failed as ``interrupted`` where their input is gone. Returns those to run."""
        again = []
        for job in self.jobs(remove_unreadable=True):
            if job.state.finished:
                continue
            partial = [p for p in self.folder(job.id).glob(".*") if p.is_file()]
            for path in partial:
                path.unlink(missing_ok=True)
            if self.input_path(job.id).is_file():
                job.state = JobState.QUEUED
                job.frames_done = 0
                self.save(job)
                again.append(job)
            else:
                job.fail(
                    ErrorCode.JOB_INTERRUPTED,
                    "The server stopped while the job ran and its input is gone.",
                )
                self.save(job)
        return again
