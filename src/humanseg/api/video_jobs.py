"""``/v1/video-jobs``: videos as asynchronous jobs (submit → status → result, or cancel).

A clip takes longer than one request may, so a submission is checked (its fields, then the
container's header against the video limits), stored and queued, and answered ``202`` with
the job's id at once. The jobs live on disk (``humanseg.video.jobs_store``) and render on
their own small thread pool (``humanseg.video.job_runner``), apart from the image requests.
PyAV is optional: without it the routes answer that this server reads no videos.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humanseg.api.bodies import json_or_form
from humanseg.api.http_errors import codes_with_status
from humanseg.api.schemas import ErrorResponse
from humanseg.api.service import Service
from humanseg.errors import ErrorCode, error
from humanseg.sources import fetch, video_limit
from humanseg.video.jobs_store import JobState, JobStore, VideoJob, check_job_id, new_job_id

if TYPE_CHECKING:
    from humanseg.video.job_runner import JobRunner

log = logging.getLogger(__name__)
router = APIRouter(tags=["video jobs"])
PATH = "/v1/video-jobs"
# the upload's form field
FILE_FIELD = "file"
MEDIA_TYPES = {
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".zip": "application/zip",
}


class VideoJobRequest(BaseModel):
    """A video job's fields, as JSON or as the form fields next to the uploaded file."""

    model_config = ConfigDict(extra="ignore")

    url: str | None = Field(
        None, description="Where to fetch the video: `http(s)://` or `s3://bucket/key` (JSON)."
    )
    type: str | None = Field(
        None,
        description="foreground (default), alpha, mask, background, blur or frames.",
        json_schema_extra={"enum": ["foreground", "alpha", "mask", "background", "blur", "frames"]},
    )
    model: str | None = Field(None, description="Catalog model [default: the server's].")
    bg_color: str | None = Field(None, description="Opaque background colour for `background`.")
    blur_strength: float | None = Field(None, ge=0, le=1, description="0 … 1, for `blur`.")
    format: str | None = Field(
        None,
        description="webm or mov for foreground; mp4 or webm for the others; zip for frames.",
        json_schema_extra={"enum": ["webm", "mov", "mp4", "zip"]},
    )

    def options(self) -> dict[str, Any]:
        return self.model_dump(exclude={"url"}, exclude_none=True)


class VideoJobs:
    """The app's store and runner, made when the app starts (if PyAV is installed)."""

    def __init__(self) -> None:
        self.store: JobStore | None = None
        self.runner: JobRunner | None = None
        self.off_because = "PyAV is not installed (humanseg[video])"

    def start(self, service: Service) -> None:
        """Open the jobs folder and resume its jobs; a server without PyAV or without a
        writable folder still serves images, and says why it takes no videos."""
        try:
            from humanseg.video.job_runner import JobRunner
        except ImportError:
            log.info("video jobs are off: PyAV is not installed (pip install 'humanseg[video]')")
            return
        video = service.settings.video
        try:
            store = JobStore(video.video_jobs_dir)
            runner = JobRunner(store, service.pipeline, video)
            runner.start()
        except OSError as exc:
            log.error("video jobs are off: %s cannot be used: %s", video.video_jobs_dir, exc)
            self.off_because = "its video jobs folder cannot be written (see the server's log)"
            return
        self.store, self.runner = store, runner

    def shutdown(self) -> None:
        if self.runner is not None:
            self.runner.shutdown()

    def require(self) -> tuple[JobStore, JobRunner]:
        if self.store is None or self.runner is None:
            raise error(
                ErrorCode.UNSUPPORTED_VIDEO_FORMAT,
                f"This server takes no video jobs: {self.off_because}.",
            )
        return self.store, self.runner


def job_view(job: VideoJob) -> dict[str, Any]:
    """A job's status as the API shows it."""
    return {
        "id": job.id,
        "state": job.state.value,
        "type": job.request.get("type", "foreground"),
        "model": job.request.get("model"),
        "format": job.result_suffix.lstrip("."),
        "progress": {"frames_done": job.frames_done, "frames_total": job.frames_total},
        "created": job.created,
        "updated": job.updated,
        "finished": job.finished,
        "result": f"{PATH}/{job.id}/result" if job.state is JobState.DONE else None,
        "result_bytes": job.result_bytes,
        "error": (
            {"code": job.error_code, "message": job.error_message} if job.error_code else None
        ),
    }


def _jobs(request: Request) -> VideoJobs:
    jobs: VideoJobs = request.app.state.video_jobs
    return jobs


async def _read_submission(request: Request) -> tuple[dict[str, Any], bytes | None]:
    fields, files = await json_or_form(
        request,
        max_files=1,
        max_fields=16,
        not_a_form="The body must be multipart/form-data (the video as `file`) or JSON "
        "(with `url`).",
    )
    return fields, files.get(FILE_FIELD)


def _submit(
    payload: dict[str, Any], upload: bytes | None, service: Service, jobs: VideoJobs
) -> VideoJob:
    """Check every field, then fetch, store and probe the video, then queue the job."""
    from humanseg.video.job_runner import job_output
    from humanseg.video.render import probe

    store, runner = jobs.require()
    try:
        fields = VideoJobRequest.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise error(ErrorCode.INVALID_REQUEST, f"Field `{field}`: {first['msg']}.") from None
    _kind, _spec, fmt = job_output(fields.options(), service.settings.video)
    if fields.model:
        service.check_served(fields.model)
    if upload is not None and fields.url:
        raise error(ErrorCode.CONFLICTING_INPUT, "Give the video as `file` or `url`, not both.")
    if upload is None and not fields.url:
        raise error(
            ErrorCode.MISSING_INPUT, "Give the video as an uploaded `file` or as `url` (JSON)."
        )
    service.require_ready()
    runner.check_room()
    if upload is not None:
        data = upload
    else:
        with video_limit(service.settings.sources, service.settings.video.video_max_bytes) as src:
            data = fetch(fields.url or "", src)
    job = VideoJob(new_job_id(), request=fields.options(), result_suffix=fmt.suffix)
    claim = store.create(job, data)
    try:
        # limits and format, before any frame is decoded
        probe(store.input_path(job.id), service.settings.video)
        runner.submit(job, claim)
    except BaseException:
        store.delete(job.id)
        claim.release()
        raise
    return job


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": ErrorResponse,
            "description": "Error codes: "
            + ", ".join(f"`{code.value}`" for code in codes_with_status(status)),
        }
        for status in statuses
    }


_SUBMISSION_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "The clip: MP4, MOV, WebM, MKV or animated GIF.",
                        },
                        **{
                            name: schema
                            for name, schema in VideoJobRequest.model_json_schema()[
                                "properties"
                            ].items()
                            if name != "url"
                        },
                    },
                }
            },
            "application/json": {"schema": VideoJobRequest.model_json_schema()},
        },
    }
}


@router.post(
    PATH,
    status_code=202,
    summary="Submit a video job",
    description=(
        "Upload a clip as `file` (multipart) or name it as `url` (JSON, `http(s)://` or "
        "`s3://`). The fields and the clip's header are checked first (type, format, model, "
        "size, duration, frame count); then the job is queued and answered `202` with its "
        "status and a `Location` to poll."
    ),
    responses=_errors(400, 401, 403, 413, 415, 422, 502, 503, 504),
    openapi_extra=_SUBMISSION_BODY,
)
async def submit_video_job(request: Request) -> Response:
    service: Service = request.app.state.service
    jobs = _jobs(request)
    jobs.require()
    payload, upload = await service.receive(lambda: _read_submission(request))
    job = await service.run(_submit, payload, upload, service, jobs)
    location = f"{PATH}/{job.id}"
    return JSONResponse(job_view(job), status_code=202, headers={"Location": location})


@router.get(
    PATH + "/{job_id}",
    summary="A video job's status and progress",
    description="`state`: queued, running, done, failed or cancelled; `progress` in frames; "
    "`error` once failed; `result` (a path) once done.",
    responses=_errors(404),
)
async def video_job_status(job_id: str, request: Request) -> Response:
    store, _runner = _jobs(request).require()
    return JSONResponse(job_view(store.load(check_job_id(job_id))))


@router.get(
    PATH + "/{job_id}/result",
    summary="Download a video job's result",
    description="The video (or ZIP of PNGs) once the job is done; `409 job_not_finished` "
    "while it is queued or running, `409 job_failed` if it failed or was cancelled.",
    response_class=FileResponse,
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        **_errors(404, 409),
    },
)
async def video_job_result(job_id: str, request: Request) -> Response:
    store, _runner = _jobs(request).require()
    job = store.load(check_job_id(job_id))
    if not job.state.finished:
        raise error(
            ErrorCode.JOB_NOT_FINISHED,
            f"The job is {job.state.value} ({job.frames_done} frames done); poll its status.",
        )
    if job.state is not JobState.DONE:
        reason = f": [{job.error_code}] {job.error_message}" if job.error_code else "."
        raise error(ErrorCode.JOB_FAILED, f"The job {job.state.value}{reason}")
    path = store.result_path(job)
    if not path.is_file():
        raise error(ErrorCode.JOB_NOT_FOUND, "The job's result has been deleted.")
    return FileResponse(
        path, media_type=MEDIA_TYPES[job.result_suffix], filename=f"{job.id}{job.result_suffix}"
    )


@router.delete(
    PATH + "/{job_id}",
    summary="Cancel or delete a video job",
    description="A queued or running job is cancelled (a render stops at its next frame and "
    "its partial file is removed) and its status returned; a finished job is deleted with its "
    "result (`204`).",
    responses={204: {"description": "Deleted."}, **_errors(404)},
)
async def delete_video_job(job_id: str, request: Request) -> Response:
    store, runner = _jobs(request).require()
    job = store.load(check_job_id(job_id))
    if not job.state.finished:
        return JSONResponse(job_view(runner.cancel(job.id)))
    store.delete(job.id)
    return Response(status_code=204)
