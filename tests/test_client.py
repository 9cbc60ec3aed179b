"""`humanseg.Client` against the real server."""

from __future__ import annotations

import io
from pathlib import Path

import images
import numpy as np
import pytest
import servers
from PIL import Image

import humanseg
from humanseg.client import ApiConnectionError, ApiError


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
    assert caught.value.code == "http_501"


def test_unreachable_server() -> None:
    client = humanseg.Client(f"http://127.0.0.1:{servers.free_port()}", retries=0)
    with pytest.raises(ApiConnectionError) as caught:
        client.segment(images.astronaut_jpeg())
    assert caught.value.code == "connection_failed" and "Cannot reach" in str(caught.value)


def test_missing_file_is_a_plain_os_error(server: str, tmp_path: Path) -> None:
    with humanseg.Client(server) as client, pytest.raises(FileNotFoundError):
        client.segment(tmp_path / "missing.jpg")
