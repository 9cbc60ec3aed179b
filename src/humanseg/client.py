"""Python clients for a humanseg server (or any server with the seed API), sync and async.

    from humanseg import Client

    with Client("http://127.0.0.1:8000") as client:
        cutout = client.segment("photo.jpg", type="foreground")     # a Result (bytes)
        cutout.save("cutout.png"); cutout.size; cutout.model; cutout.confidence
        card = client.segment("photo.jpg", type="id_photo", id_preset="passport",
                              bg_color="blue", format="jpeg")
        matte = client.segment("https://example.com/portrait.jpg")  # the server downloads it
        client.submit_video("talk.mp4", type="blur").wait(timeout=600).download("blur.mp4")

    async with AsyncClient("http://127.0.0.1:8000") as client:
        cutout = await client.segment("photo.jpg", type="foreground")

Every field of ``POST /human_image_segmentation`` is an argument of ``segment``. A failure the
server reports raises an ``ApiError`` subclass carrying the server's ``code`` (a
``humanseg.errors.ErrorCode``) and HTTP ``status``; a server that cannot be reached raises
``ApiConnectionError``.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack, overload

import httpx
import pybase64 as base64

from humanseg.api.http_errors import STATUS
from humanseg.errors import ErrorCode, HumansegError
from humanseg.schema import FormatName, IdPresetName, OutputTypeName

if TYPE_CHECKING:
    from types import TracebackType

    from PIL import Image

Source = str | Path | bytes | bytearray | memoryview

SEGMENT_PATH = "/human_image_segmentation"
VIDEO_JOBS_PATH = "/v1/video-jobs"
VideoTypeName = Literal["foreground", "alpha", "mask", "background", "blur", "frames"]
VideoFormatName = Literal["webm", "mov", "mp4", "zip"]


class SegmentOptions(TypedDict, total=False):
    """``segment()``'s keyword arguments: the seed endpoint's fields besides the image and
    ``type`` (see the API reference); one left out, or None, is not sent."""

    model: str | None
    format: FormatName | None
    bg_color: str | None
    bg_img: Source | None  # a path, bytes or an http(s)/s3 URL
    bg_url: str | None
    blur_strength: float | None
    crop_margin: str | int | None
    id_preset: IdPresetName | None
    refine: bool | None
    keep_every_part: bool | None


_UNFINISHED = ("queued", "running")
MODEL_HEADER = "X-Humanseg-Model"
CONFIDENCE_HEADER = "X-Humanseg-Confidence"
_URL_SCHEMES = ("http://", "https://", "s3://")


# --- errors ---------------------------------------------------------------------------------


class ApiError(HumansegError):
    """The server answered with an error: ``status``, ``code`` and ``message`` are its own.

    ``code`` is an ``ErrorCode``; an answer that is not humanseg's (a proxy's error page, or a
    code this client does not know) is ``fetch_failed`` with the status it came with.
    """

    def __init__(self, status: int, code: ErrorCode | str, message: str) -> None:
        super().__init__(code, message)
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code.value!r}, {self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.status, self.code, self.message))


class InvalidRequestError(ApiError):
    """400: a field is missing, malformed or not allowed (``invalid_type``...)."""


class AuthenticationError(ApiError):
    """401 or 403: no API key, or one the server does not accept."""


class TooLargeError(ApiError):
    """413 (and 414, 431): the body, the base64 text, the download or the image is too large."""


class ImageError(ApiError):
    """415 or 422: the bytes are not a usable image, or hold no person (``no_person``)."""


class UpstreamError(ApiError):
    """502 or 504: the image's ``url`` or S3 store failed or did not answer in time."""


class UnavailableError(ApiError):
    """503: the server is loading, overloaded or cannot run the model; retry later."""


class RequestTimeoutError(ApiError):
    """408 or 504 ``request_timeout``: the request took longer than the server allows."""


class ApiConnectionError(ApiError):
    """The server could not be reached (``fetch_failed``) or did not answer (``fetch_timeout``).

    ``status`` is 0: no HTTP answer came back.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(0, code, message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.code, self.message))


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    408: RequestTimeoutError,
    413: TooLargeError,
    414: TooLargeError,
    431: TooLargeError,
    415: ImageError,
    422: ImageError,
    502: UpstreamError,
    503: UnavailableError,
    504: UpstreamError,
}
_BY_CODE: dict[ErrorCode, type[ApiError]] = {ErrorCode.REQUEST_TIMEOUT: RequestTimeoutError}


def error_class(code: ErrorCode, status: int) -> type[ApiError]:
    """The exception class for ``code`` (by the status it is registered with, else ``status``)."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    return _BY_STATUS.get(STATUS.get(code, status), ApiError)


def _api_error(response: httpx.Response) -> ApiError:
    status = response.status_code
    try:
        detail = response.json()["error"]
        raw_code, message = str(detail["code"]), str(detail["message"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()[:200] or response.reason_phrase
        raw_code, message = "", f"HTTP {status} from the server: {text}"
    try:
        code = ErrorCode(raw_code)
    except ValueError:  # not humanseg's answer, or a code this client does not know
        if raw_code:
            message = f"HTTP {status} from the server, code {raw_code[:50]!r}: {message}"
        code = ErrorCode.FETCH_FAILED
    return error_class(code, status)(status, code, message)


# --- results --------------------------------------------------------------------------------


class Result(bytes):
    """The encoded image the server returned (it *is* the bytes), with what is known of it.

    ``type``: the output type asked for (``"alpha"`` for the matte); ``model``: the model or
    pipeline that made it, as the server reports it (else the one asked for, else None);
    ``confidence``: the server's estimate of the result's quality, in [0, 1], when it
    reports one; ``width``/``height``/``size`` and ``media_type`` from the image itself.
    """

    type: str
    model: str | None
    confidence: float | None
    width: int
    height: int
    media_type: str

    def __new__(
        cls,
        data: bytes,
        *,
        type: str,
        model: str | None = None,
        confidence: float | None = None,
    ) -> Result:
        result = super().__new__(cls, data)
        result.type = type
        result.model = model
        result.confidence = confidence
        result.width, result.height, result.media_type = _image_header(data)
        return result

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def __repr__(self) -> str:
        return (
            f"Result(type={self.type!r}, size={self.size}, media_type={self.media_type!r}, "
            f"model={self.model!r}, confidence={self.confidence!r}, {len(self)} bytes)"
        )

    def image(self) -> Image.Image:
        """The result decoded as a PIL image."""
        from PIL import Image

        image = Image.open(io.BytesIO(self))
        image.load()
        return image

    def save(self, path: str | Path) -> Path:
        """Write the bytes as they came (their encoding is ``media_type``) to ``path``."""
        target = Path(path)
        target.write_bytes(self)
        return target


def _image_header(data: bytes) -> tuple[int, int, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            return image.width, image.height, Image.MIME.get(image.format or "", "")
    except (UnidentifiedImageError, OSError):
        return 0, 0, ""


def _confidence(response: httpx.Response) -> float | None:
    try:
        value = float(response.headers[CONFIDENCE_HEADER])
    except (KeyError, ValueError):
        return None
    return value if 0.0 <= value <= 1.0 else None


# --- requests -------------------------------------------------------------------------------


def _base64(source: Source) -> str:
    if isinstance(source, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(source)).decode("ascii")
    if isinstance(source, str | Path):
        return base64.b64encode(Path(source).read_bytes()).decode("ascii")
    raise TypeError(f"expected a path or bytes, not {type(source).__name__}")


def _is_url(source: Source) -> bool:
    return isinstance(source, str) and source.lower().startswith(_URL_SCHEMES)


def request_body(
    source: Source, type: OutputTypeName | None = None, **options: Unpack[SegmentOptions]
) -> dict[str, Any]:
    """The JSON body of the seed endpoint; options left at None are not sent."""
    if not isinstance(source, str | Path | bytes | bytearray | memoryview):
        raise TypeError(f"segment() takes a path, a URL or bytes, not {type_name(source)}")
    unknown = sorted(set(options) - set(SegmentOptions.__annotations__))
    if unknown:
        raise TypeError(f"segment() got unexpected keyword arguments: {', '.join(unknown)}")
    body: dict[str, Any] = {"url": source} if _is_url(source) else {"img": _base64(source)}
    fields: dict[str, Any] = {"type": type or None, **options}
    bg_img = fields.pop("bg_img", None)
    if bg_img is not None and _is_url(bg_img):
        fields["bg_url"] = str(bg_img)
    elif bg_img is not None:
        fields["bg_img"] = _base64(bg_img)
    body.update({key: value for key, value in fields.items() if value is not None})
    return body


def _read_bytes(source: Source) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    raise TypeError(f"expected a path, a URL or bytes, not {type_name(source)}")


def _video_request(
    source: Source,
    type: str | None,
    model: str | None,
    format: str | None,
    bg_color: str | None,
    blur_strength: float | None,
) -> dict[str, Any]:
    """The arguments of the ``POST /v1/video-jobs`` request: JSON for a URL, else an upload."""
    given = {
        "type": type,
        "model": model,
        "format": format,
        "bg_color": bg_color,
        "blur_strength": blur_strength,
    }
    fields = {key: value for key, value in given.items() if value is not None}
    if _is_url(source):
        return {"json": {"url": source, **fields}}
    upload = {"file": ("video", _read_bytes(source), "application/octet-stream")}
    return {"data": fields, "files": upload}


def _job_error(info: dict[str, Any], state: str) -> ApiError:
    """The error a failed or cancelled job's status reports."""
    detail = info.get("error") or {}
    try:
        code = ErrorCode(str(detail.get("code") or ErrorCode.JOB_FAILED.value))
    except ValueError:  # a code this client does not know
        code = ErrorCode.JOB_FAILED
    message = str(detail.get("message") or f"The video job was {state}.")
    return error_class(code, STATUS[code])(STATUS[code], code, message)


def _wait_timeout(job_id: str, info: dict[str, Any], timeout: float | None) -> TimeoutError:
    progress = info.get("progress") or {}
    return TimeoutError(
        f"video job {job_id} is still {info.get('state')} after {timeout} s "
        f"({progress.get('frames_done', 0)} frames done)"
    )


def type_name(value: object) -> str:
    return type(value).__name__


def _result(response: httpx.Response, body: dict[str, Any]) -> Result:
    try:
        data = base64.b64decode(response.json()["result"])
    except (ValueError, KeyError, TypeError):
        raise UpstreamError(
            response.status_code,
            ErrorCode.FETCH_FAILED,
            "The server's answer has no `result` field.",
        ) from None
    model = response.headers.get(MODEL_HEADER) or body.get("model")
    return Result(
        data, type=body.get("type") or "alpha", model=model, confidence=_confidence(response)
    )


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.1), 30.0)
    except ValueError:
        return 1.0


def _should_retry(response: httpx.Response, attempt: int, retries: int) -> bool:
    # not ready yet or overloaded: wait as long as the server asks, then retry
    return response.status_code == 503 and attempt < retries


def _connection_error(base_url: httpx.URL, exc: httpx.TransportError) -> ApiConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return ApiConnectionError(
            ErrorCode.FETCH_TIMEOUT, f"{base_url} did not answer in time ({exc})."
        )
    return ApiConnectionError(ErrorCode.FETCH_FAILED, f"Cannot reach {base_url} ({exc}).")


def _http_options(base_url: str, api_key: str | None, timeout: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return {
        "base_url": base_url.rstrip("/"),
        "headers": headers,
        "timeout": timeout,
        "trust_env": False,
    }


class Client:
    """Calls ``POST /human_image_segmentation``. Thread-safe; reuses connections."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        retries: int = 3,
    ) -> None:
        self.retries = retries
        self._http = httpx.Client(**_http_options(base_url, api_key, timeout))

    @overload
    def segment(
        self,
        source: Source,
        type: OutputTypeName | None = ...,
        *,
        as_image: Literal[False] = ...,
        **options: Unpack[SegmentOptions],
    ) -> Result: ...

    @overload
    def segment(
        self,
        source: Source,
        type: OutputTypeName | None = ...,
        *,
        as_image: Literal[True],
        **options: Unpack[SegmentOptions],
    ) -> Image.Image: ...

    def segment(
        self,
        source: Source,
        type: OutputTypeName | None = None,
        *,
        as_image: bool = False,
        **options: Unpack[SegmentOptions],
    ) -> Result | Image.Image:
        """Segment one image given as a file path, raw bytes or an http(s)/s3 URL.

        ``type``: ``None`` or ``""`` for the alpha matte, ``"foreground"`` for a cut-out,
        ``mask``, ``background`` (with ``bg_color`` or ``bg_img``: a path, bytes or URL),
        ``blur`` (``blur_strength``), ``crop`` (``crop_margin``) or ``id_photo``
        (``id_preset``, ``bg_color``). ``format``: png (default), webp or jpeg. The other
        options (``SegmentOptions``): ``model``, ``refine``, ``keep_every_part``.
        Returns a ``Result`` (the encoded bytes, with size, type, model and confidence), or a
        loaded PIL image with ``as_image=True``.
        """
        body = request_body(source, type, **options)
        result = _result(self._post(body), body)
        return result.image() if as_image else result

    def submit_video(
        self,
        source: Source,
        type: VideoTypeName | None = None,
        *,
        model: str | None = None,
        format: VideoFormatName | None = None,
        bg_color: str | None = None,
        blur_strength: float | None = None,
    ) -> VideoJob:
        """Submit a clip (a file path, raw bytes or an http(s)/s3 URL) as a video job.

        ``type``: foreground (default; ``format`` webm or mov), alpha, mask, background
        (``bg_color``), blur (``blur_strength``) — mp4 or webm — or frames (a ZIP of PNGs).
        Returns at once, once the server has checked and queued the job; ``wait()`` on it.
        """
        request = _video_request(source, type, model, format, bg_color, blur_strength)
        return VideoJob(self, self._send("POST", VIDEO_JOBS_PATH, **request).json())

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        return self._send("POST", SEGMENT_PATH, json=body)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise _connection_error(self._http.base_url, exc) from None
            if _should_retry(response, attempt, self.retries):
                time.sleep(_retry_after(response))
                continue
            if not response.is_success:
                raise _api_error(response)
            return response
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient:
    """``Client`` for asyncio, over ``httpx.AsyncClient``: the same arguments and results."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        retries: int = 3,
    ) -> None:
        self.retries = retries
        self._http = httpx.AsyncClient(**_http_options(base_url, api_key, timeout))

    async def segment(
        self,
        source: Source,
        type: OutputTypeName | None = None,
        **options: Unpack[SegmentOptions],
    ) -> Result:
        """See ``Client.segment``; files are read before the request is sent."""
        body = request_body(source, type, **options)
        return _result(await self._post(body), body)

    async def submit_video(
        self,
        source: Source,
        type: VideoTypeName | None = None,
        *,
        model: str | None = None,
        format: VideoFormatName | None = None,
        bg_color: str | None = None,
        blur_strength: float | None = None,
    ) -> AsyncVideoJob:
        """See ``Client.submit_video``."""
        request = _video_request(source, type, model, format, bg_color, blur_strength)
        response = await self._send("POST", VIDEO_JOBS_PATH, **request)
        return AsyncVideoJob(self, response.json())

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        return await self._send("POST", SEGMENT_PATH, json=body)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise _connection_error(self._http.base_url, exc) from None
            if _should_retry(response, attempt, self.retries):
                await asyncio.sleep(_retry_after(response))
                continue
            if not response.is_success:
                raise _api_error(response)
            return response
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


# --- video jobs -----------------------------------------------------------------------------


class VideoJob:
    """A video job on the server: ``status()``, ``wait()``, ``download()``, ``cancel()``.

    ``info`` is the last status the server gave (``state``, ``progress``, ``error``, ...).
    """

    def __init__(self, client: Client, info: dict[str, Any]) -> None:
        self._client = client
        self.info = info
        self.id: str = info["id"]

    @property
    def path(self) -> str:
        return f"{VIDEO_JOBS_PATH}/{self.id}"

    @property
    def state(self) -> str:
        return str(self.info["state"])

    def status(self) -> dict[str, Any]:
        self.info = self._client._send("GET", self.path).json()
        return self.info

    def wait(self, timeout: float | None = None, *, poll: float = 0.5) -> VideoJob:
        """Poll until the job is finished. Raises the job's error as an ``ApiError`` if it
        failed or was cancelled, ``TimeoutError`` if ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status()["state"] in _UNFINISHED:
            if deadline is not None and time.monotonic() >= deadline:
                raise _wait_timeout(self.id, self.info, timeout)
            time.sleep(poll)
        if self.state != "done":
            raise _job_error(self.info, self.state)
        return self

    def download(self, path: str | Path) -> Path:
        """Write the finished job's result to ``path``; returns it."""
        target = Path(path)
        response = self._client._send("GET", f"{self.path}/result")
        target.write_bytes(response.content)
        return target

    def cancel(self) -> None:
        """Cancel the job if it is queued or running, else delete it and its result."""
        response = self._client._send("DELETE", self.path)
        if response.status_code == 200:
            self.info = response.json()

    def __repr__(self) -> str:
        return f"VideoJob({self.id!r}, state={self.state!r})"


class AsyncVideoJob:
    """``VideoJob`` for ``AsyncClient``: the same methods, awaited."""

    def __init__(self, client: AsyncClient, info: dict[str, Any]) -> None:
        self._client = client
        self.info = info
        self.id: str = info["id"]

    @property
    def path(self) -> str:
        return f"{VIDEO_JOBS_PATH}/{self.id}"

    @property
    def state(self) -> str:
        return str(self.info["state"])

    async def status(self) -> dict[str, Any]:
        self.info = (await self._client._send("GET", self.path)).json()
        return self.info

    async def wait(self, timeout: float | None = None, *, poll: float = 0.5) -> AsyncVideoJob:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (await self.status())["state"] in _UNFINISHED:
            if deadline is not None and time.monotonic() >= deadline:
                raise _wait_timeout(self.id, self.info, timeout)
            await asyncio.sleep(poll)
        if self.state != "done":
            raise _job_error(self.info, self.state)
        return self

    async def download(self, path: str | Path) -> Path:
        target = Path(path)
        response = await self._client._send("GET", f"{self.path}/result")
        target.write_bytes(response.content)
        return target

    async def cancel(self) -> None:
        response = await self._client._send("DELETE", self.path)
        if response.status_code == 200:
            self.info = response.json()

    def __repr__(self) -> str:
        return f"AsyncVideoJob({self.id!r}, state={self.state!r})"
