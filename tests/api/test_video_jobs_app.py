"""The video jobs routes in the OpenAPI document; a server whose jobs folder fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanseg.api.app import create_app
from humanseg.api.service import Service
from humanseg.api.video_jobs import VideoJobs
from humanseg.errors import ErrorCode, HumansegError
from humanseg.settings import load_settings


def test_openapi_shows_the_video_job_routes() -> None:
    schema = create_app(load_settings()).openapi()
    paths = schema["paths"]
    submit = paths["/v1/video-jobs"]["post"]
    assert "202" in submit["responses"]
    body = submit["requestBody"]["content"]
    assert "file" in body["multipart/form-data"]["schema"]["properties"]
    assert "url" in body["application/json"]["schema"]["properties"]
    assert set(paths["/v1/video-jobs/{job_id}"]) == {"get", "delete"}
    result = paths["/v1/video-jobs/{job_id}/result"]["get"]["responses"]
    assert "video/webm" in result["200"]["content"]
    assert "job_not_finished" in result["409"]["description"]
    assert "job_not_found" in result["404"]["description"]


def test_a_jobs_folder_that_cannot_be_made_turns_video_jobs_off(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    service = Service(load_settings(video_jobs_dir=blocker / "jobs"))
    jobs = VideoJobs()
    jobs.start(service)  # the server still starts and serves images
    with pytest.raises(HumansegError) as caught:
        jobs.require()
    assert caught.value.code is ErrorCode.UNSUPPORTED_VIDEO_FORMAT
    assert "folder" in caught.value.message
    jobs.shutdown()
    service.shutdown()
