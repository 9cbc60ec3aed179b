"""The video jobs on disk: ids, atomic state, claims, recovery after a restart, expiry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from humanseg.errors import ErrorCode, HumansegError
from humanseg.video.jobs_store import JobState, JobStore, VideoJob, check_job_id, new_job_id


def _job(store: JobStore, state: JobState, *, with_input: bool = True) -> VideoJob:
    job = VideoJob(new_job_id(), request={"type": "alpha"}, result_suffix=".mp4", state=state)
    store.create(job, b"clip bytes").release()  # as a process that stopped leaves it
    if not with_input:
        store.input_path(job.id).unlink()
    store.save(job)
    return job


@pytest.mark.parametrize(
    "job_id", ["../etc", "..", "a" * 31, "A" * 32, "0" * 31 + "/", "", "x" * 32, "%2e%2e"]
)
def test_an_id_that_is_not_ours_is_not_found_and_never_a_path(job_id: str) -> None:
    with pytest.raises(HumansegError) as caught:
        check_job_id(job_id)
    assert caught.value.code is ErrorCode.JOB_NOT_FOUND


def test_state_round_trips_through_its_file(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = _job(store, JobState.RUNNING)
    job.frames_done, job.frames_total = 3, 10
    store.save(job)
    loaded = store.load(job.id)
    assert loaded == job
    assert loaded.state is JobState.RUNNING
    assert sorted(p.name for p in store.folder(job.id).iterdir()) == [
        "claim",
        "input",
        "state.json",
    ]


def test_a_missing_job_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(HumansegError) as caught:
        JobStore(tmp_path).load(new_job_id())
    assert caught.value.code is ErrorCode.JOB_NOT_FOUND


def test_recovery_queues_again_what_it_can_and_fails_the_rest(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    running = _job(store, JobState.RUNNING)
    (store.folder(running.id) / ".result.mp4.tmp").write_bytes(b"partial")
    queued = _job(store, JobState.QUEUED)
    orphan = _job(store, JobState.RUNNING, with_input=False)
    done = _job(store, JobState.DONE)
    cut_short = tmp_path / new_job_id()  # a submission cut short before its state was saved
    cut_short.mkdir()
    assert len(store.jobs()) == 4 and cut_short.exists()  # or one being checked right now

    again = store.recover()

    assert {job.id for job, _claim in again} == {running.id, queued.id}
    assert store.load(running.id).state is JobState.QUEUED
    assert not (store.folder(running.id) / ".result.mp4.tmp").exists()
    failed = store.load(orphan.id)
    assert failed.state is JobState.FAILED
    assert failed.error_code == ErrorCode.JOB_INTERRUPTED.value
    assert failed.finished is not None
    assert store.load(done.id).state is JobState.DONE
    assert {job.id for job in store.jobs()} == {running.id, queued.id, orphan.id, done.id}
    assert not cut_short.exists()
    # taken: another process (or another look here) finds nothing left to take over
    assert store.recover() == []
    for _job_again, claim in again:
        claim.release()
    assert {job.id for job, _claim in store.recover()} == {running.id, queued.id}


def test_a_claimed_job_is_left_to_its_owner_and_taken_over_once_it_dies(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = VideoJob(new_job_id(), request={"type": "alpha"}, result_suffix=".mp4")
    claim = store.create(job, b"clip bytes")
    assert store.recover() == []  # no state yet, but claimed: a submission being checked
    assert store.folder(job.id).exists()
    job.state = JobState.RUNNING
    store.save(job)
    assert store.claim(job.id) is None and store.recover() == []
    claim.release()

    # the owner is another process, which dies holding the claim
    code = (
        "import sys, time; from pathlib import Path\n"
        "from humanseg.video.jobs_store import JobStore\n"
        "claim = JobStore(Path(sys.argv[1])).claim(sys.argv[2])\n"
        "claim and claim.mark_owner()\n"
        "print('held' if claim else 'refused', flush=True); time.sleep(60)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path), job.id], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "held"
        pid = int((store.folder(job.id) / "claim").read_text())
        assert pid == owner.pid
        assert store.recover() == []
        os.kill(owner.pid, signal.SIGKILL)
    finally:
        owner.kill()
        owner.wait()
    [(taken, held)] = store.recover()
    assert taken.id == job.id and taken.state is JobState.QUEUED
    assert int((store.folder(job.id) / "claim").read_text()) == os.getpid()
    taken.state = JobState.DONE
    store.save(taken)
    held.release()
    (store.folder(job.id) / "claim").write_text("1\n")  # as if pid 1 had run it
    assert store.recover() == []
    assert (store.folder(job.id) / "claim").read_text() == "1\n"  # a finished job is let be


def test_a_staging_folder_left_by_a_dead_submission_is_removed_in_time(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    claim = store.create(VideoJob(new_job_id(), request={}), b"clip bytes")
    claim.release()
    left = tmp_path / ".new-left"
    left.mkdir()
    assert store.expire(retention=50) == [] and left.exists()  # maybe still being written
    assert store.expire(retention=50, now=time.time() + 3600) == []
    assert not left.exists()


def test_finished_jobs_expire_after_the_retention_and_running_ones_never(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    done = _job(store, JobState.DONE)
    done.finished = time.time() - 100
    store.save(done)
    fresh = _job(store, JobState.FAILED)
    fresh.finished = time.time()
    store.save(fresh)
    running = _job(store, JobState.RUNNING)

    assert store.expire(retention=50) == [done.id]
    assert not store.folder(done.id).exists()
    assert store.expire(retention=50, now=time.time() + 1000) == [fresh.id]
    assert store.load(running.id).state is JobState.RUNNING
