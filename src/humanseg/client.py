"""A small Python client for a humanseg server (or any server with the seed API).

    from humanseg import Client

    with Client("http://127.0.0.1:8000") as client:
        png = client.segment("photo.jpg", type="foreground")        # bytes
        image = client.segment(png_bytes, as_image=True)             # PIL image
        matte = client.segment("https://example.com/portrait.jpg")   # the server downloads it

A failure the server reports raises ``ApiError`` with the API's stable ``code``; a server that
cannot be reached raises ``ApiConnectionError`` (code ``connection_failed``).
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import httpx
import pybase64 as base64

from humanseg.errors import HumansegError

if TYPE_CHECKING:
    from types import TracebackType

    from PIL import Image

Source = str | Path | bytes | bytearray | memoryview

_URL_SCHEMES = ("http://", "https://", "s3://")


class ApiError(HumansegError):
    """The server answered with an error: ``status``, ``code`` and ``message`` are its own."""


class ApiConnectionError(ApiError):
    """The server could not be reached or did not answer in time."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "connection_failed", message)


def _request_body(source: Source, output_type: str | None, model: str | None) -> dict[str, str]:
    body: dict[str, str] = {}
    if isinstance(source, bytes | bytearray | memoryview):
        body["img"] = base64.b64encode(bytes(source)).decode("ascii")
    elif isinstance(source, str) and source.lower().startswith(_URL_SCHEMES):
        body["url"] = source
    elif isinstance(source, str | Path):
        body["img"] = base64.b64encode(Path(source).read_bytes()).decode("ascii")
    else:
        raise TypeError(f"segment() takes a path, a URL or bytes, not {type(source).__name__}")
    if output_type:
        body["type"] = output_type
    if model:
        body["model"] = model
    return body


def _api_error(response: httpx.Response) -> ApiError:
    try:
        detail = response.json()["error"]
        return ApiError(response.status_code, str(detail["code"]), str(detail["message"]))
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()[:200] or response.reason_phrase
        return ApiError(response.status_code, f"http_{response.status_code}", text)


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.1), 30.0)
    except ValueError:
        return 1.0


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
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.retries = retries
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, trust_env=False
        )

    @overload
    def segment(
        self,
        source: Source,
        type: str | None = ...,
        *,
        model: str | None = ...,
        as_image: Literal[False] = ...,
    ) -> bytes: ...

    @overload
    def segment(
        self,
        source: Source,
        type: str | None = ...,
        *,
        model: str | None = ...,
        as_image: Literal[True],
    ) -> Image.Image: ...

    def segment(
        self,
        source: Source,
        type: str | None = None,
        *,
        model: str | None = None,
        as_image: bool = False,
    ) -> bytes | Image.Image:
        """Segment one image given as a file path, raw bytes or an http(s)/s3 URL.

        ``type``: ``None`` or ``""`` for the alpha matte, ``"foreground"`` for a cut-out.
        Returns the encoded result (PNG bytes), or a loaded PIL image with ``as_image=True``.
        """
        body = _request_body(source, type, model)
        data = base64.b64decode(self._post("/human_image_segmentation", body)["result"])
        if not as_image:
            return data
        from PIL import Image

        image = Image.open(io.BytesIO(data))
        image.load()
        return image

    def _post(self, path: str, body: dict[str, str]) -> dict[str, str]:
        for attempt in range(self.retries + 1):
            try:
                response = self._http.post(path, json=body)
            except httpx.TimeoutException as exc:
                raise ApiConnectionError(
                    f"{self._http.base_url} did not answer in time ({exc})."
                ) from None
            except httpx.TransportError as exc:
                raise ApiConnectionError(f"Cannot reach {self._http.base_url} ({exc}).") from None
            if response.status_code == 503 and attempt < self.retries:
                # not ready yet or overloaded: wait as long as the server asks, then retry
                time.sleep(_retry_after(response))
                continue
            if not response.is_success:
                raise _api_error(response)
            try:
                return {"result": str(response.json()["result"])}
            except (ValueError, KeyError, TypeError):
                raise ApiError(
                    502, "invalid_response", "The server's answer has no `result` field."
                ) from None
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
