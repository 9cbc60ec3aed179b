"""`humanseg.Client` against the real server."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import humanseg
from humanseg.client import (
    ApiConnectionError,
    ApiError,
    AsyncClient,
    ImageError,
    InvalidRequestError,
    Result,
)
from humanseg.errors import ErrorCode
from tests.support import images, servers


def test_client_is_exported() -> None:
    assert humanseg.Client is humanseg.client.Client
    assert issubclass(humanseg.ApiError, humanseg.HumansegError)


def test_segment_a_path_returns_the_matte_png(server: str, tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(images.astronaut_jpeg())
    with humanseg.Client(server) as client:
        data = client.segment(photo)
        same = client.segment(str(photo), "")
    matte = images.decode(data)
    assert matte.mode == "L" and matte.size == (512, 512)
    assert data == same
    head, corners = images.person_region_alpha(np.asarray(matte))
    assert head > 0.9 and corners < 0.1


def test_segment_bytes_as_a_pil_cutout(server: str) -> None:
    with humanseg.Client(server) as client:
        image = client.segment(images.astronaut_jpeg(), type="foreground", as_image=True)
    assert isinstance(image, Image.Image)
    assert image.mode == "RGBA" and image.size == (512, 512)


def test_segment_a_url_is_fetched_by_the_server(server: str, file_server: str) -> None:
    with humanseg.Client(server) as client:
        data = client.segment(f"{file_server}/files/astronaut.png", model="selfie")
    assert Image.open(io.BytesIO(data)).size == (512, 512)


def test_api_errors_carry_the_code(server: str) -> None:
    with humanseg.Client(server) as client:
        with pytest.raises(ApiError) as caught:
            client.segment(b"certainly not an image")
        assert caught.value.status == 415 and caught.value.code == "unsupported_format"
        assert "JPEG" in caught.value.message
        with pytest.raises(ApiError) as caught:
            client.segment(images.astronaut_jpeg(), model="no-such-model")
        assert caught.value.code == "unknown_model"
        with pytest.raises(ApiError) as caught:
            client.segment(images.astronaut_jpeg(), type="sepia")
        assert caught.value.code == "invalid_type"


def test_a_server_that_is_not_humanseg(file_server: str) -> None:
    with humanseg.Client(file_server) as client, pytest.raises(ApiError) as caught:
        client.segment(images.astronaut_jpeg())
    assert caught.value.code == "fetch_failed" and caught.value.status == 501
    assert "HTTP 501" in caught.value.message


def test_unreachable_server() -> None:
    client = humanseg.Client(f"http://127.0.0.1:{servers.free_port()}", retries=0)
    with pytest.raises(ApiConnectionError) as caught:
        client.segment(images.astronaut_jpeg())
    assert caught.value.code == "fetch_failed" and caught.value.status == 0
    assert "Cannot reach" in str(caught.value)
    assert isinstance(caught.value.code, ErrorCode)


def test_a_misspelt_option_is_a_type_error_before_any_request() -> None:
    client = humanseg.Client(f"http://127.0.0.1:{servers.free_port()}", retries=0)
    with pytest.raises(TypeError, match="bg_colour"):
        client.segment(images.astronaut_jpeg(), "background", bg_colour="red")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="blur"):
        asyncio.run(AsyncClient("http://127.0.0.1:9").segment(b"x", blur=0.5))  # type: ignore[call-arg]


def test_missing_file_is_a_plain_os_error(server: str, tmp_path: Path) -> None:
    with humanseg.Client(server) as client, pytest.raises(FileNotFoundError):
        client.segment(tmp_path / "missing.jpg")


def test_result_carries_size_type_model_and_confidence(server: str) -> None:
    with humanseg.Client(server) as client:
        result = client.segment(images.astronaut_jpeg(), type="foreground", model="selfie")
        matte = client.segment(images.astronaut_jpeg())
    assert isinstance(result, Result) and isinstance(result, bytes)
    assert result.size == (512, 512) and result.media_type == "image/png"
    assert result.type == "foreground" and result.model == "selfie"
    assert result.confidence is not None and 0.5 < result.confidence <= 1.0
    assert result.image().mode == "RGBA"
    assert matte.type == "alpha" and matte.model == "auto"  # the server says which it used


def test_every_field_of_the_seed_endpoint(server: str, tmp_path: Path) -> None:
    photo = images.astronaut_jpeg()
    backdrop = tmp_path / "backdrop.png"
    images.coffee().save(backdrop)
    with humanseg.Client(server) as client:
        red = client.segment(photo, "background", bg_color="#ff0000", as_image=True)
        assert red.mode == "RGB" and red.getpixel((2, 2)) == (255, 0, 0)
        pictured = client.segment(photo, "background", bg_img=backdrop, format="jpeg")
        assert pictured.media_type == "image/jpeg" and pictured.size == (512, 512)
        blurred = client.segment(photo, "blur", blur_strength=1.0, format="webp")
        assert blurred.media_type == "image/webp"
        tight = client.segment(photo, "crop", crop_margin="0px")
        loose = client.segment(photo, "crop", crop_margin=40)
        assert tight.width < loose.width
        card = client.segment(photo, "id_photo", id_preset="passport", bg_color="blue")
        assert card.size == (413, 531)
        refined = client.segment(photo, "mask", refine=True)
        assert set(np.unique(np.asarray(refined.image()))) <= {0, 255}
        saved = client.segment(photo, "foreground").save(tmp_path / "cutout.png")
        assert Image.open(saved).size == (512, 512)


def test_errors_are_exceptions_of_their_kind(server: str) -> None:
    with humanseg.Client(server) as client:
        with pytest.raises(InvalidRequestError) as caught:
            client.segment(images.astronaut_jpeg(), "background")
        assert caught.value.code == "missing_background"
        with pytest.raises(ImageError) as caught:  # a photo of a cup holds nobody to crop to
            client.segment(images.encode(images.coffee()), "crop")
        assert caught.value.code == "no_person" and caught.value.status == 422
        with pytest.raises(InvalidRequestError) as caught:
            client.segment(images.astronaut_jpeg(), "foreground", format="jpeg")
        assert caught.value.code == "invalid_format"
    for error in (caught.value,):
        assert isinstance(error.code, ErrorCode)


def test_async_client(server: str) -> None:
    async def main() -> tuple[list[Result], ApiError]:
        async with AsyncClient(server) as client:
            results = await asyncio.gather(
                client.segment(images.astronaut_jpeg()),
                client.segment(images.astronaut_jpeg(), "id_photo", id_preset="us"),
            )
            try:
                await client.segment(b"not an image")
            except ApiError as exc:
                return list(results), exc
        raise AssertionError("no error raised")

    (matte, card), failure = asyncio.run(main())
    assert matte.size == (512, 512) and matte.type == "alpha"
    assert card.size == (600, 600) and card.type == "id_photo"
    assert isinstance(failure, ImageError) and failure.code == "unsupported_format"
