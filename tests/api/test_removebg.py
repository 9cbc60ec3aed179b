"""The remove.bg-compatible endpoint over a real server: with the `removebg` client library from
the package index (pointed at our loopback server), and with the raw HTTP shapes of remove.bg's
public documentation (multipart, url-encoded, JSON; headers; errors)."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support import images, servers

PATH = "/v1.0/removebg"
PHOTO_PNG = images.encode(images.astronaut(), "PNG")
PHOTO_JPEG = images.astronaut_jpeg()


def open_image(data: bytes, fmt: str) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == fmt
    image.load()
    return image


def assert_removebg_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["errors"]
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["title"]


def test_removebg_client_library(server: str, tmp_path: Path, file_server: str) -> None:
    """The `removebg` package, unchanged but for its API address, against our server."""
    from removebg import removebg  # the package `removebg` (MIT), a dev dependency

    removebg.API_ENDPOINT = f"{server}{PATH}"  # the only change a user of the library makes
    client = removebg.RemoveBg("any-key", str(tmp_path / "error.log"))

    photo = tmp_path / "portrait.jpg"
    photo.write_bytes(PHOTO_JPEG)
    client.remove_background_from_img_file(str(photo), size="full")
    cutout = open_image((tmp_path / "portrait.jpg_no_bg.png").read_bytes(), "PNG")
    assert cutout.mode == "RGBA" and cutout.size == (512, 512)
    head, corners = images.person_region_alpha(np.asarray(cutout)[..., 3])
    assert head > 0.85 and corners < 0.10

    out = tmp_path / "b64.png"
    client.remove_background_from_base64_img(
        base64.b64encode(PHOTO_JPEG).decode(), new_file_name=str(out), bg_color="81d4fa"
    )
    # format auto on an opaque colour: a JPEG, as remove.bg answers (whatever the file's name);
    # size "regular" (the library's default) is at most 0.25 megapixels
    on_colour = open_image(out.read_bytes(), "JPEG")
    assert on_colour.mode == "RGB" and on_colour.width * on_colour.height <= 250_000

    out = tmp_path / "url.png"
    client.remove_background_from_img_url(
        f"{file_server}/files/astronaut.jpg", size="full", new_file_name=str(out)
    )
    assert open_image(out.read_bytes(), "PNG").size == (512, 512)


def test_person_free_photo_is_unknown_foreground(
    server: str, client: httpx.Client, tmp_path: Path
) -> None:
    """remove.bg's 400 for a photo it finds no foreground in, and what its clients see."""
    import requests
    from removebg import removebg

    coffee = images.encode(images.coffee(), "JPEG")
    response = client.post(PATH, files={"image_file": ("coffee.jpg", coffee)})
    assert_removebg_error(response, 400, "unknown_foreground")
    assert response.json()["errors"][0]["title"] == "Could not identify foreground in image."
    as_json = client.post(
        PATH,
        data={"image_file_b64": base64.b64encode(coffee).decode(), "channels": "alpha"},
        headers={"Accept": "application/json"},
    )
    assert_removebg_error(as_json, 400, "unknown_foreground")

    removebg.API_ENDPOINT = f"{server}{PATH}"
    library = removebg.RemoveBg("any-key", str(tmp_path / "error.log"))
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(coffee)
    with pytest.raises(requests.HTTPError) as caught:  # what raise_for_status() gives for a 400
        library.remove_background_from_img_file(str(photo))
    assert caught.value.response.status_code == 400
    assert caught.value.response.json()["errors"][0]["code"] == "unknown_foreground"
    assert not (tmp_path / "coffee.jpg_no_bg.png").exists()

    # the seed endpoint keeps the seed's behaviour: an empty matte, not an error
    seed = client.post("/human_image_segmentation", json={"img": base64.b64encode(coffee).decode()})
    assert seed.status_code == 200


def test_multipart_upload_with_headers(client: httpx.Client) -> None:
    response = client.post(
        PATH,
        files={"image_file": ("photo.png", PHOTO_PNG, "image/png")},
        data={"size": "auto"},
        headers={"X-Api-Key": "key"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-type"] == "person"
    assert response.headers["x-width"] == "512" and response.headers["x-height"] == "512"
    image = open_image(response.content, "PNG")
    assert image.mode == "RGBA" and image.size == (512, 512)
    top = int(response.headers["x-foreground-top"])
    height = int(response.headers["x-foreground-height"])
    alpha = np.asarray(image)[..., 3]
    rows = np.flatnonzero((alpha >= 16).any(axis=1))
    assert (top, height) == (rows[0], rows[-1] + 1 - rows[0])


def test_default_size_is_preview(client: httpx.Client) -> None:
    big = images.encode(images.astronaut().resize((1200, 1000)), "JPEG")
    response = client.post(PATH, files={"image_file": ("a.jpg", big, "image/jpeg")})
    image = open_image(response.content, "PNG")
    assert image.width * image.height <= 250_000
    assert abs(image.width / image.height - 1.2) < 0.01
    assert response.headers["x-width"] == str(image.width)
    medium = client.post(PATH, files={"image_file": ("a.jpg", big)}, data={"size": "medium"})
    assert open_image(medium.content, "PNG").size == (1200, 1000)


def test_urlencoded_base64_and_json_answer(client: httpx.Client) -> None:
    response = client.post(
        PATH,
        data={"image_file_b64": base64.b64encode(PHOTO_JPEG).decode(), "size": "full"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    image = open_image(base64.b64decode(data["result_b64"]), "PNG")
    assert image.size == (512, 512)
    assert {"foreground_top", "foreground_left", "foreground_width", "foreground_height"} <= set(
        data
    )
    # the pipeline's estimate of the result's quality, in the body and in a header
    assert 0.5 < data["confidence"] <= 1.0
    assert float(response.headers["X-Humanseg-Confidence"]) == data["confidence"]


def test_json_request_body(client: httpx.Client, file_server: str) -> None:
    response = client.post(
        PATH,
        json={"image_url": f"{file_server}/files/astronaut.jpg", "size": "full", "crop": True},
    )
    assert response.status_code == 200, response.text
    image = open_image(response.content, "PNG")
    assert image.size == (
        int(response.headers["x-foreground-width"]),
        int(response.headers["x-foreground-height"]),
    )


def test_alpha_channel_and_formats(client: httpx.Client) -> None:
    files = {"image_file": ("a.png", PHOTO_PNG)}
    alpha = client.post(PATH, files=files, data={"channels": "alpha", "size": "full"})
    assert open_image(alpha.content, "PNG").mode == "L"
    jpg = client.post(PATH, files=files, data={"format": "jpg", "size": "full"})
    assert jpg.headers["content-type"] == "image/jpeg"
    rgb = np.asarray(open_image(jpg.content, "JPEG")).astype(int)
    assert (rgb[:10, :10] > 240).all()  # JPEG without bg_color: on white, as remove.bg does
    coloured = client.post(PATH, files=files, data={"bg_color": "green", "size": "full"})
    assert coloured.headers["content-type"] == "image/jpeg"  # auto: no transparency left
    assert (
        np.abs(
            np.asarray(open_image(coloured.content, "JPEG"))[:5, :5].astype(int) - [0, 128, 0]
        ).max()
        < 12
    )
    archive = client.post(PATH, files=files, data={"format": "zip", "size": "full"})
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert sorted(zipped.namelist()) == ["alpha.png", "color.jpg"]
        assert open_image(zipped.read("alpha.png"), "PNG").mode == "L"
        assert open_image(zipped.read("color.jpg"), "JPEG").size == (512, 512)


def test_crop_margin_scale_position(client: httpx.Client) -> None:
    files = {"image_file": ("a.png", PHOTO_PNG)}
    tight = client.post(PATH, files=files, data={"crop": "true", "size": "full"})
    margin = client.post(
        PATH, files=files, data={"crop": "true", "crop_margin": "30px", "size": "full"}
    )
    tight_size = open_image(tight.content, "PNG").size
    assert open_image(margin.content, "PNG").size == (tight_size[0] + 60, tight_size[1] + 60)
    scaled = client.post(
        PATH, files=files, data={"scale": "50%", "position": "0% 0%", "size": "full"}
    )
    image = open_image(scaled.content, "PNG")
    assert image.size == (512, 512)
    alpha = np.asarray(image)[..., 3]
    rows = np.flatnonzero((alpha >= 16).any(axis=1))
    cols = np.flatnonzero((alpha >= 16).any(axis=0))
    assert rows[0] <= 1 and cols[0] <= 1  # moved to the top-left corner
    assert max(rows[-1], cols[-1]) <= 258  # and half the canvas big


def test_background_image_upload(client: httpx.Client) -> None:
    response = client.post(
        PATH,
        files={
            "image_file": ("a.png", PHOTO_PNG),
            "bg_image_file": ("bg.png", images.encode(images.coffee(), "PNG")),
        },
        data={"size": "full"},
    )
    assert response.status_code == 200, response.text
    assert open_image(response.content, "JPEG").mode == "RGB"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({}, 400, "missing_input"),
        ({"image_file_b64": "AAAA", "image_url": "http://x/"}, 400, "conflicting_input"),
        ({"image_file_b64": "%%%"}, 400, "invalid_base64"),
        ({"image_file_b64": base64.b64encode(b"text").decode()}, 415, "unsupported_format"),
        ({"image_url": "http://127.0.0.2:9/a.jpg"}, 400, "url_forbidden"),
        ({"image_file_b64": "AAAA", "size": "huge"}, 400, "invalid_parameter"),
        ({"image_file_b64": "AAAA", "channels": "rgb"}, 400, "invalid_parameter"),
        ({"image_file_b64": "AAAA", "type": "spaceship"}, 400, "invalid_parameter"),
        ({"image_file_b64": "AAAA", "format": "gif"}, 400, "invalid_parameter"),
        ({"image_file_b64": "AAAA", "scale": "5%"}, 400, "invalid_parameter"),
        ({"image_file_b64": "AAAA", "position": "left"}, 400, "invalid_parameter"),
        ({"image_file_b64": "AAAA", "crop": "sometimes"}, 400, "invalid_parameter"),
        ({"image_file_b64": "AAAA", "crop_margin": "900px"}, 400, "invalid_margin"),
        ({"image_file_b64": "AAAA", "bg_color": "zzz"}, 400, "invalid_color"),
        (
            {"image_file_b64": "AAAA", "format": "jpg", "bg_color": "ff000080"},
            400,
            "invalid_format",
        ),
    ],
)
def test_errors_in_removebg_shape(client: httpx.Client, data: dict, status: int, code: str) -> None:
    assert_removebg_error(client.post(PATH, data=data), status, code)


def test_error_shapes_for_body_and_method(client: httpx.Client) -> None:
    assert_removebg_error(client.get(PATH), 405, "method_not_allowed")
    assert_removebg_error(
        client.post(PATH, content=b"{", headers={"Content-Type": "application/json"}),
        400,
        "invalid_json",
    )
    huge = b"x" * (7 * 1024 * 1024)
    assert_removebg_error(
        client.post(PATH, files={"image_file": ("a.jpg", huge)}), 413, "request_too_large"
    )
    no_face = client.post(PATH, files={"image_file": ("a.jpg", b"\xff\xd8\xff broken")})
    assert_removebg_error(no_face, 422, "invalid_image")
    # the seed endpoint keeps its own shape
    seed = client.post("/human_image_segmentation", json={})
    assert seed.json()["error"]["code"] == "missing_input"


def test_openapi_documents_the_endpoint(client: httpx.Client) -> None:
    operation = client.get("/openapi.json").json()["paths"][PATH]["post"]
    content = operation["requestBody"]["content"]
    assert {"multipart/form-data", "application/x-www-form-urlencoded"} <= set(content)
    fields = content["multipart/form-data"]["schema"]["properties"]
    for name in (
        "image_file",
        "image_file_b64",
        "image_url",
        "size",
        "type",
        "format",
        "channels",
        "bg_color",
        "bg_image_url",
        "crop",
        "crop_margin",
        "scale",
        "position",
    ):
        assert name in fields, name


def test_large_base64_form_field(client: httpx.Client) -> None:
    """A base64 image over 1 MiB in a form field (multipart parsers often cap fields at 1 MiB)."""
    big = images.encode(images.astronaut().resize((1024, 1024)), "PNG")
    encoded = base64.b64encode(big).decode()
    assert len(encoded) > 1024 * 1024
    response = client.post(PATH, files={"image_file_b64": (None, encoded), "size": (None, "full")})
    assert response.status_code == 200, response.text
    assert open_image(response.content, "PNG").size == (1024, 1024)


@pytest.mark.slow
def test_api_key_on_removebg_is_the_servers_one_check() -> None:
    """With HUMANSEG_AUTH=api_key, remove.bg's route takes the key like every route (X-Api-Key
    or Bearer; both must be valid when both come), in remove.bg's error shape; a real uvicorn
    server on loopback runs the app."""
    import threading

    import uvicorn

    from humanseg.api.app import create_app
    from humanseg.settings import load_settings

    app = create_app(load_settings(auth="api_key", api_keys=["secret"]))
    port = servers.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        servers.wait_until(
            lambda: httpx.get(f"{url}/readyz", timeout=2).status_code == 200,
            timeout=120,
            what="in-process humanseg server",
        )
        files = {"image_file": ("a.png", PHOTO_PNG)}

        def post(headers: dict[str, str]) -> httpx.Response:
            return httpx.post(f"{url}{PATH}", files=files, headers=headers, timeout=60)

        assert_removebg_error(post({}), 401, "missing_api_key")
        assert_removebg_error(post({"X-Api-Key": "x"}), 403, "invalid_api_key")
        assert post({"X-Api-Key": "secret"}).status_code == 200
        assert post({"Authorization": "Bearer secret"}).status_code == 200
        both_wrong_key = {"Authorization": "Bearer secret", "X-Api-Key": "x"}
        assert_removebg_error(post(both_wrong_key), 403, "invalid_api_key")
        reversed_order = {"X-Api-Key": "x", "Authorization": "Bearer secret"}
        assert_removebg_error(post(reversed_order), 403, "invalid_api_key")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
