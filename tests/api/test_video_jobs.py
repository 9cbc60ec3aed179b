"""``/v1/video-jobs`` on a real server: submit → poll → download, refusals before any work,
url and S3 clips under the video size limit, cancel, a restart that keeps the jobs, several
worker processes on one jobs folder, expiry, and the Python client."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from humanseg.client import ApiError, AsyncClient, Client, InvalidRequestError, TooLargeError
from humanseg.errors import ErrorCode
from humanseg.video.jobs_store import JobState, JobStore, VideoJob, new_job_id
from tests.support import images, servers
from tests.support.s3 import AWS_ENV, BUCKET, boto_kwargs
from tests.support.videos import person_frames, read_clip, write_clip

pytestmark = pytest.mark.slow  # servers in their own processes, the real model on each frame

FRAMES = 6
MAX_FRAMES = 100
# the module's server: an image fetched from a url may be 1 KiB, a clip 2 MiB
MAX_DOWNLOAD_BYTES = 1024
VIDEO_MAX_BYTES = 2 * 1024 * 1024


def _env(jobs_dir: Path, **more: str) -> dict[str, str]:
    return {
        "HUMANSEG_VIDEO_JOBS_DIR": str(jobs_dir),
        "HUMANSEG_VIDEO_MAX_FRAMES": str(MAX_FRAMES),
        "HUMANSEG_URL_ALLOWLIST": "127.0.0.1/32",
        **more,
    }


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "short": write_clip(folder / "short.mp4", person_frames(FRAMES, (64, 48))),
        "long": write_clip(folder / "long.mp4", person_frames(30, (320, 240))),
        "longer": write_clip(folder / "longer.mp4", person_frames(90, (320, 240)), audio=False),
        "too_long": write_clip(
            folder / "too-long.mp4", person_frames(MAX_FRAMES + 5, (32, 24)), audio=False
        ),
    }


@pytest.fixture(scope="module")
def jobs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture(scope="module")
def video_server(jobs_dir: Path, artifacts_dir: Path, s3_server: str) -> Iterator[str]:
    env = _env(
        jobs_dir,
        HUMANSEG_MAX_DOWNLOAD_BYTES=str(MAX_DOWNLOAD_BYTES),
        HUMANSEG_VIDEO_MAX_BYTES=str(VIDEO_MAX_BYTES),
        HUMANSEG_S3_ENDPOINT_URL=s3_server,
        **AWS_ENV,
    )
    with servers.humanseg_server(env, artifacts_dir / "server-video-jobs.log") as url:
        yield url


def _submit(url: str, clip: Path, **fields: object) -> httpx.Response:
    files = {"file": (clip.name, clip.read_bytes(), "video/mp4")}
    data = {key: str(value) for key, value in fields.items()}
    return httpx.post(f"{url}/v1/video-jobs", data=data, files=files, timeout=60)


def _submit_url(server: str, url: str, **fields: str) -> httpx.Response:
    return httpx.post(f"{server}/v1/video-jobs", json={"url": url, **fields}, timeout=30)


def _wait(url: str, job_id: str, timeout: float = 180) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(f"{url}/v1/video-jobs/{job_id}", timeout=10).json()
        if status["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def _error(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


@pytest.mark.parametrize(
    ("fields", "media_type", "suffix"),
    [
        ({}, "video/webm", "webm"),
        ({"type": "foreground", "format": "mov"}, "video/quicktime", "mov"),
        ({"type": "alpha", "format": "mp4"}, "video/mp4", "mp4"),
        ({"type": "background", "bg_color": "green", "format": "webm"}, "video/webm", "webm"),
        ({"type": "frames"}, "application/zip", "zip"),
    ],
)
def test_submit_poll_download(
    video_server: str,
    clips: dict[str, Path],
    tmp_path: Path,
    fields: dict[str, str],
    media_type: str,
    suffix: str,
) -> None:
    submitted = _submit(video_server, clips["short"], **fields)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert submitted.headers["location"] == f"/v1/video-jobs/{job['id']}"
    assert job["state"] in ("queued", "running") and job["format"] == suffix

    status = _wait(video_server, job["id"])
    assert status["state"] == "done", status
    assert status["progress"] == {"frames_done": FRAMES, "frames_total": FRAMES}
    assert status["error"] is None and status["result"] == f"/v1/video-jobs/{job['id']}/result"

    result = httpx.get(f"{video_server}{status['result']}", timeout=30)
    assert result.status_code == 200
    assert result.headers["content-type"] == media_type
    assert int(status["result_bytes"]) == len(result.content)  # type: ignore[call-overload]
    path = tmp_path / f"out.{suffix}"
    path.write_bytes(result.content)
    if suffix == "zip":
        assert len(zipfile.ZipFile(path).namelist()) == FRAMES
    else:
        facts = read_clip(path)
        assert facts.frames == FRAMES and facts.size == (64, 48)


@pytest.mark.parametrize(
    ("fields", "clip", "status", "code"),
    [
        ({"type": "crop"}, "short", 400, "invalid_type"),
        ({"type": "foreground", "format": "mp4"}, "short", 400, "invalid_format"),
        ({"type": "background", "bg_color": "#00ff0080"}, "short", 400, "invalid_color"),
        ({"model": "no-such-model"}, "short", 400, "unknown_model"),
        ({"blur_strength": "2"}, "short", 400, "invalid_request"),
        ({}, "too_long", 413, "video_too_long"),
        ({}, "text", 415, "unsupported_video_format"),
    ],
)
def test_bad_submissions_are_refused_before_any_work(
    video_server: str,
    clips: dict[str, Path],
    jobs_dir: Path,
    tmp_path: Path,
    fields: dict[str, str],
    clip: str,
    status: int,
    code: str,
) -> None:
    before = set(jobs_dir.iterdir())
    if clip == "text":
        path = tmp_path / "notes.mp4"
        path.write_text("these are notes, not a video\n" * 20)
    else:
        path = clips[clip]
    response = _submit(video_server, path, **fields)
    assert (response.status_code, _error(response)) == (status, code), response.text
    assert set(jobs_dir.iterdir()) == before  # nothing stored, nothing queued


def test_a_url_clip_has_the_image_guards_and_the_video_size_limit(
    video_server: str, clips: dict[str, Path]
) -> None:
    clip = clips["long"].read_bytes()
    assert MAX_DOWNLOAD_BYTES < len(clip) < VIDEO_MAX_BYTES
    too_big = b"\0" * (VIDEO_MAX_BYTES + 1)
    with servers.file_server({"clip.mp4": clip, "too-big.mp4": too_big}) as files:
        response = _submit_url(video_server, f"{files}/files/clip.mp4", type="mask")
        assert response.status_code == 202, response.text
        assert _wait(video_server, response.json()["id"])["state"] == "done"
        for path in ("files/too-big.mp4", "declared-huge", "endless"):
            over = _submit_url(video_server, f"{files}/{path}")
            assert (over.status_code, _error(over)) == (413, "video_too_large"), path
            assert "HUMANSEG_VIDEO_MAX_BYTES" in over.json()["error"]["message"]
    # a private address the operator has not allowed: refused before any fetch
    private = _submit_url(video_server, "http://10.0.0.1/clip.mp4", type="alpha")
    assert (private.status_code, _error(private)) == (400, "url_forbidden")
    missing = httpx.post(f"{video_server}/v1/video-jobs", json={"type": "alpha"}, timeout=30)
    assert (missing.status_code, _error(missing)) == (400, "missing_input")


def test_an_s3_clip_has_the_video_size_limit(
    video_server: str, s3_server: str, clips: dict[str, Path]
) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_server, **boto_kwargs())
    s3.put_object(Bucket=BUCKET, Key="clips/talk.mp4", Body=clips["long"].read_bytes())
    s3.put_object(Bucket=BUCKET, Key="clips/huge.mp4", Body=b"\0" * (VIDEO_MAX_BYTES + 1))
    response = _submit_url(video_server, f"s3://{BUCKET}/clips/talk.mp4", type="alpha")
    assert response.status_code == 202, response.text
    assert _wait(video_server, response.json()["id"])["state"] == "done"
    over = _submit_url(video_server, f"s3://{BUCKET}/clips/huge.mp4")
    assert (over.status_code, _error(over)) == (413, "video_too_large")


def test_unknown_ids_and_unfinished_results(video_server: str, clips: dict[str, Path]) -> None:
    for job_id in (new_job_id(), "not-an-id", "0" * 31 + "g", "..."):
        response = httpx.get(f"{video_server}/v1/video-jobs/{job_id}/result", timeout=10)
        assert (response.status_code, _error(response)) == (404, "job_not_found")
    traversal = httpx.get(f"{video_server}/v1/video-jobs/..%2F..%2Fetc", timeout=10)
    assert traversal.status_code == 404
    job = _submit(video_server, clips["long"], type="alpha").json()
    early = httpx.get(f"{video_server}/v1/video-jobs/{job['id']}/result", timeout=10)
    assert (early.status_code, _error(early)) == (409, "job_not_finished")
    httpx.delete(f"{video_server}/v1/video-jobs/{job['id']}", timeout=10)


def test_cancel_stops_the_render_and_leaves_no_partial_file(
    video_server: str, clips: dict[str, Path], jobs_dir: Path
) -> None:
    running = _submit(video_server, clips["long"], type="blur").json()
    queued = _submit(video_server, clips["long"], type="alpha").json()  # one at a time: waits
    deadline = time.monotonic() + 120
    while httpx.get(f"{video_server}/v1/video-jobs/{running['id']}").json()["state"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.1)

    for job in (queued, running):
        response = httpx.delete(f"{video_server}/v1/video-jobs/{job['id']}", timeout=10)
        assert response.status_code == 200
        assert response.json()["state"] == "cancelled"

    time.sleep(2)  # the render notices at its next frame
    for job in (queued, running):
        status = httpx.get(f"{video_server}/v1/video-jobs/{job['id']}", timeout=10).json()
        assert status["state"] == "cancelled"
        result = httpx.get(f"{video_server}/v1/video-jobs/{job['id']}/result", timeout=10)
        assert (result.status_code, _error(result)) == (409, "job_failed")
        assert sorted(p.name for p in (jobs_dir / job["id"]).iterdir()) == ["claim", "state.json"]

    # a finished job is deleted with its result
    gone = httpx.delete(f"{video_server}/v1/video-jobs/{running['id']}", timeout=10)
    assert gone.status_code == 204
    assert not (jobs_dir / running["id"]).exists()
    again = httpx.get(f"{video_server}/v1/video-jobs/{running['id']}", timeout=10)
    assert again.status_code == 404


def test_the_client_submits_waits_and_downloads(
    video_server: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    with Client(video_server) as client:
        job = client.submit_video(clips["short"], type="alpha")
        assert job.wait(timeout=180) is job and job.state == "done"
        path = job.download(tmp_path / "alpha.mp4")
        assert read_clip(path).frames == FRAMES

        with pytest.raises(InvalidRequestError) as caught:
            client.submit_video(clips["short"].read_bytes(), type="crop")  # type: ignore[arg-type]
        assert caught.value.code is ErrorCode.INVALID_TYPE
        with pytest.raises(TooLargeError):
            client.submit_video(clips["too_long"])

        cancelled = client.submit_video(clips["long"], type="mask")
        cancelled.cancel()
        with pytest.raises(ApiError) as failed:
            cancelled.wait(timeout=60)
        assert failed.value.code is ErrorCode.JOB_FAILED
        assert cancelled.state == "cancelled"
        job.cancel()  # finished: deleted
        with pytest.raises(ApiError) as missing:
            job.status()
        assert missing.value.code is ErrorCode.JOB_NOT_FOUND


def test_the_async_client_submits_waits_and_downloads(
    video_server: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    async def run() -> Path:
        async with AsyncClient(video_server) as client:
            job = await client.submit_video(clips["short"].read_bytes(), type="frames")
            await job.wait(timeout=180)
            return await job.download(tmp_path / "frames.zip")

    assert len(zipfile.ZipFile(asyncio.run(run())).namelist()) == FRAMES


def test_a_restart_keeps_finished_results_and_resumes_or_fails_the_rest(
    tmp_path: Path, clips: dict[str, Path], artifacts_dir: Path
) -> None:
    jobs_dir = tmp_path / "jobs"
    with servers.humanseg_server(_env(jobs_dir), artifacts_dir / "server-video-1.log") as url:
        finished = _submit(url, clips["short"], type="mask").json()
        assert _wait(url, finished["id"])["state"] == "done"
        first = httpx.get(f"{url}/v1/video-jobs/{finished['id']}/result", timeout=30).content
        stopped = _submit(url, clips["longer"], type="alpha").json()
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/v1/video-jobs/{stopped['id']}").json()["state"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # stopped (SIGTERM) mid-render: still "running" on disk, without a partial file
    store = JobStore(jobs_dir)
    assert store.load(stopped["id"]).state is JobState.RUNNING
    assert sorted(p.name for p in store.folder(stopped["id"]).iterdir()) == [
        "claim",
        "input",
        "state.json",
    ]

    # jobs a crashed server left running: one with its input, one without
    resumable = VideoJob(new_job_id(), {"type": "alpha"}, JobState.RUNNING, result_suffix=".mp4")
    store.create(resumable, clips["short"].read_bytes()).release()
    resumable.frames_done = 3
    store.save(resumable)
    orphan = VideoJob(new_job_id(), {"type": "alpha"}, JobState.RUNNING, result_suffix=".mp4")
    store.create(orphan, b"").release()
    store.input_path(orphan.id).unlink()
    store.save(orphan)

    with servers.humanseg_server(_env(jobs_dir), artifacts_dir / "server-video-2.log") as url:
        kept = httpx.get(f"{url}/v1/video-jobs/{finished['id']}/result", timeout=30)
        assert kept.status_code == 200 and kept.content == first
        for job_id, frames in ((stopped["id"], 90), (resumable.id, FRAMES)):
            resumed = _wait(url, job_id)
            assert resumed["state"] == "done", resumed
            assert resumed["progress"] == {"frames_done": frames, "frames_total": frames}
        failed = httpx.get(f"{url}/v1/video-jobs/{orphan.id}", timeout=10).json()
        assert failed["state"] == "failed"
        assert failed["error"]["code"] == "job_interrupted"
    assert store.load(stopped["id"]).renders == 2 and store.load(resumable.id).renders == 1


def _owner(jobs_dir: Path, job_id: str) -> int:
    """The pid of the process that holds (or last held) the job."""
    return int((jobs_dir / job_id / "claim").read_text())


def test_two_workers_run_each_job_once_and_answer_for_each_other(
    tmp_path: Path, clips: dict[str, Path], artifacts_dir: Path
) -> None:
    jobs_dir = tmp_path / "jobs"
    store = JobStore(jobs_dir)
    # left by a server that crashed: both workers look at them as they start
    leftovers = []
    for _ in range(3):
        job = VideoJob(new_job_id(), {"type": "mask"}, JobState.RUNNING, result_suffix=".mp4")
        store.create(job, clips["short"].read_bytes()).release()
        store.save(job)
        leftovers.append(job.id)
    orphan = VideoJob(new_job_id(), {"type": "alpha"}, JobState.QUEUED, result_suffix=".mp4")
    store.create(orphan, b"").release()
    store.input_path(orphan.id).unlink()
    store.save(orphan)

    env = _env(jobs_dir, HUMANSEG_WORKERS="2")
    log_path = artifacts_dir / "server-video-workers.log"
    with servers.humanseg_process(env, log_path) as (url, server):
        servers.wait_for_workers(url)
        # every request below is a new connection: any worker may answer it
        ids: list[str] = []
        for kind in ["alpha", "mask", "frames", "foreground", "blur", "alpha"] * 3:
            response = _submit(url, clips["short"], type=kind)
            for _ in range(60):  # readiness seen ten times may still be one worker's
                if response.status_code != 503 or _error(response) != "not_ready":
                    break
                time.sleep(0.5)
                response = _submit(url, clips["short"], type=kind)
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
            if len(ids) >= 6 and len({_owner(jobs_dir, job_id) for job_id in ids}) == 2:
                break  # both workers have taken jobs
        for job_id in ids + leftovers:
            status = _wait(url, job_id)
            assert status["state"] == "done", status
            result = httpx.get(f"{url}/v1/video-jobs/{job_id}/result", timeout=30)
            assert result.status_code == 200 and len(result.content) == status["result_bytes"]
        assert all(store.load(job_id).renders == 1 for job_id in ids + leftovers)
        failed = httpx.get(f"{url}/v1/video-jobs/{orphan.id}", timeout=10).json()
        assert failed["error"]["code"] == "job_interrupted"
        assert store.load(orphan.id).renders == 0
        workers = {_owner(jobs_dir, job_id) for job_id in ids + leftovers}
        assert len(workers) == 2 and server.pid not in workers  # both took jobs

        # cancelled from whichever worker answers, running or queued in either
        long_jobs = [_submit(url, clips["long"], type="blur").json()["id"] for _ in range(4)]
        for job_id in long_jobs:
            response = httpx.delete(f"{url}/v1/video-jobs/{job_id}", timeout=10)
            assert response.status_code == 200 and response.json()["state"] == "cancelled"
        deadline = time.monotonic() + 60  # another process notices at its next progress save
        for job_id in long_jobs:
            while sorted(p.name for p in (jobs_dir / job_id).iterdir()) != ["claim", "state.json"]:
                assert time.monotonic() < deadline, "a cancelled render went on"
                time.sleep(0.1)
            assert httpx.get(f"{url}/v1/video-jobs/{job_id}").json()["state"] == "cancelled"

        # a worker killed mid-render: its job is taken over and run again, once
        job_id = _submit(url, clips["longer"], type="alpha").json()["id"]
        deadline = time.monotonic() + 120
        while store.load(job_id).frames_done == 0:
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        owner = _owner(jobs_dir, job_id)
        os.kill(owner, signal.SIGKILL)
        status = _wait(url, job_id)  # answered by the other worker meanwhile
        assert status["state"] == "done", status
        assert status["progress"] == {"frames_done": 90, "frames_total": 90}
        assert store.load(job_id).renders == 2 and _owner(jobs_dir, job_id) != owner
        result = httpx.get(f"{url}/v1/video-jobs/{job_id}/result", timeout=30)
        (tmp_path / "taken-over.mp4").write_bytes(result.content)
        assert read_clip(tmp_path / "taken-over.mp4").frames == 90


def test_a_full_video_queue_refuses_and_images_still_run_then_results_expire(
    tmp_path: Path, clips: dict[str, Path], artifacts_dir: Path
) -> None:
    jobs_dir = tmp_path / "jobs"
    env = _env(jobs_dir, HUMANSEG_VIDEO_JOB_RETENTION="1", HUMANSEG_VIDEO_JOB_QUEUE="0")
    with servers.humanseg_server(env, artifacts_dir / "server-video-expiry.log") as url:
        job = _submit(url, clips["long"], type="alpha").json()
        refused = _submit(url, clips["short"], type="alpha")
        assert (refused.status_code, _error(refused)) == (503, "overloaded")
        assert refused.headers["retry-after"]
        image = httpx.post(
            f"{url}/human_image_segmentation",
            json={"img": base64.b64encode(images.astronaut_jpeg()).decode()},
            timeout=60,
        )
        assert image.status_code == 200  # video jobs have their own worker
        assert _wait(url, job["id"])["state"] == "done"
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/v1/video-jobs/{job['id']}", timeout=10).status_code != 404:
            assert time.monotonic() < deadline, "the finished job was never deleted"
            time.sleep(0.3)
        assert not (jobs_dir / job["id"]).exists()
    shutil.rmtree(jobs_dir, ignore_errors=True)
