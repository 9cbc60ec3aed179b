"""The video jobs routes in the OpenAPI document, with their error codes."""

from __future__ import annotations

from humanseg.api.app import create_app
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
