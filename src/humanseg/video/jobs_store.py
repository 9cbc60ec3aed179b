"""Video jobs on disk: one folder per job with its state (JSON), its input and its result.

The state file is replaced atomically on every change, so a reader (or a server started after
a crash) sees one whole state. Several server processes may share one folder: a job is run by
the one process that holds its claim (an ``flock`` on the job's ``claim`` file, which the
kernel drops when that process dies, so a dead owner's job is free to be taken over), and every
change of a job's state is made under a lock of its folder, so a cancel from one process and a
progress save from another cannot undo each other. Nothing here knows about HTTP or runs a
video: the API and the runner (``humanseg.video.job_runner``) go through :class:`JobStore`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
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
CLAIM_FILE = "claim"  # flock'ed by the process that runs the job; holds its pid
_STAGING = ".new-"  # a submission's folder while its input is written
# a staging folder left this long by a process that died is removed
_STAGING_SECONDS = 600.0


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
    renders: int = 0  # times a process started rendering it (more than one: resumed)
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


class Claim:
    """The right to run one job, held by this process until :meth:`release` (or its death)."""

    def __init__(self, job_id: str, fd: int) -> None:
        self.job_id = job_id
        self._fd: int | None = fd

    def mark_owner(self) -> None:
        """Write this process's pid into the claim file, for whoever looks at the folder."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _try_claim(folder: Path, job_id: str) -> Claim | None:
    try:
        fd = os.open(folder / CLAIM_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except (FileNotFoundError, NotADirectoryError):
        return None  # deleted meanwhile
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return Claim(job_id, fd)


class JobStore:
    """The jobs under ``root``: ``root/<id>/state.json``, ``input``, ``result.<suffix>``,
    ``claim``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, job_id: str) -> Path:
        return self.root / check_job_id(job_id)

    def input_path(self, job_id: str) -> Path:
        return self.folder(job_id) / INPUT_FILE

    def result_path(self, job: VideoJob) -> Path:
        return self.folder(job.id) / f"{RESULT_STEM}{job.result_suffix}"

    def create(self, job: VideoJob, data: bytes) -> Claim:
        """The job's folder with its input, claimed by this process; the state is saved by the
        caller once checked. The folder appears whole and already claimed, so no other
        process takes it for one a dead submission left."""
        staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=self.root))
        try:
            claim = _try_claim(staging, job.id)
            if claim is None:
                raise OSError(f"{staging} could not be claimed")
            claim.mark_owner()
            (staging / INPUT_FILE).write_bytes(data)
            staging.rename(self.folder(job.id))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return claim

    def claim(self, job_id: str) -> Claim | None:
        """The job's claim, or None while another process (or another claim here) holds it."""
        return _try_claim(self.folder(job_id), job_id)

    @contextlib.contextmanager
    def locked(self, job_id: str) -> Iterator[VideoJob]:
        """The job's state, read with its folder locked against every other change until the
        block ends (save within it); ``job_not_found`` if it is gone."""
        try:
            fd = os.open(self.folder(job_id), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise error(ErrorCode.JOB_NOT_FOUND, "No video job has this id.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self.load(job_id)
        finally:
            os.close(fd)

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

    def _job_ids(self) -> list[str]:
        return [
            folder.name
            for folder in self.root.iterdir()
            if _JOB_ID.match(folder.name) and folder.is_dir()
        ]

    def jobs(self) -> list[VideoJob]:
        """Every job with a readable state, oldest first (a folder without one is a submission
        being checked, or one cut short)."""
        found = []
        for job_id in self._job_ids():
            with contextlib.suppress(HumansegError, OSError, ValueError, TypeError):
                found.append(self.load(job_id))
        return sorted(found, key=lambda job: job.created)

    def expire(self, retention: float, now: float | None = None) -> list[str]:
        """Delete the jobs finished more than ``retention`` seconds ago; their ids. Also the
        staging folders of submissions whose process died while writing them."""
        now = time.time() if now is None else now
        gone = []
        for job in self.jobs():
            if job.state.finished and (job.finished or job.updated) + retention <= now:
                self.delete(job.id)
                gone.append(job.id)
        for folder in self.root.glob(f"{_STAGING}*"):
            with contextlib.suppress(OSError):
                if folder.stat().st_mtime + _STAGING_SECONDS <= now:
                    claim = _try_claim(folder, folder.name)
                    if claim is not None:
                        shutil.rmtree(folder, ignore_errors=True)
                        claim.release()
        return gone

    def recover(self, room: int | None = None) -> list[tuple[VideoJob, Claim]]:
        """Take over the unfinished jobs that no live process holds (left by a stopped or dead
        one): each queued again with this process's claim, or failed as ``interrupted``
        where its input is gone. At most ``room`` are taken; the rest wait for a later call
        (or another process). A folder with no state and no owner (a submission cut short)
        is removed."""
        again: list[tuple[VideoJob, Claim]] = []
        for job_id in self._job_ids():
            if room is not None and len(again) >= room:
                break
            with contextlib.suppress(HumansegError, OSError, ValueError, TypeError):
                if self.load(job_id).state.finished:
                    continue  # for good: no need to claim it
            claim = self.claim(job_id)
            if claim is None:
                continue
            try:
                job = self._take_over(job_id)
            except BaseException:
                claim.release()
                raise
            if job is None:
                claim.release()
            else:
                claim.mark_owner()
                again.append((job, claim))
        return sorted(again, key=lambda item: item[0].created)

    def _take_over(self, job_id: str) -> VideoJob | None:
        """With the job claimed: the job, queued again, if it is one to run."""
        try:
            with self.locked(job_id) as job:
                if job.state.finished:  # finished before the claim was free
                    return None
                for path in self.folder(job_id).glob(".*"):  # a dead render's partial file
                    if path.is_file():
                        path.unlink(missing_ok=True)
                if self.input_path(job_id).is_file():
                    job.state = JobState.QUEUED
                    job.frames_done = 0
                    self.save(job)
                    return job
                job.fail(
                    ErrorCode.JOB_INTERRUPTED,
                    "The server stopped while the job ran and its input is gone.",
                )
                self.save(job)
                return None
        except HumansegError:  # no state: its submission was cut short
            self.delete(job_id)
        except (OSError, ValueError, TypeError):
            self.delete(job_id)  # an unreadable state
        return None
