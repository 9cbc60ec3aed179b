"""The seed-compatible endpoint over a real uvicorn server: every input route, both outputs."""

from __future__ import annotations

import base64

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support import images
from tests.support.images import assert_person_matte, result_image
from tests.support.s3 import BUCKET


def segment(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/human_image_segmentation", json=body)


def test_default_type_returns_grayscale_matte_at_input_size(client: httpx.Client) -> None:
    photo = images.astronaut_jpeg()
    matte = result_image(segment(client, img=base64.b64encode(photo).decode()))
    assert matte.mode == "L"
    assert matte.size == images.astronaut().size
    alpha = np.asarray(matte)
    assert_person_matte(alpha)
    assert alpha.min() == 0 and alpha.max() == 255


def test_every_answer_carries_a_confidence(client: httpx.Client) -> None:
    """A clear portrait is a confident answer, and so is the default pipeline's empty answer
    for a photo where nothing looks like a person (a page of text); its empty answer for a
    coffee cup that its person model outlines is not, nor a single model's outline of it."""

    def confidence(photo: Image.Image, **fields: str) -> float:
        data = base64.b64encode(images.encode(photo, "JPEG", quality=90)).decode()
        response = segment(client, img=data, **fields)
        assert response.status_code == 200, response.text
        return float(response.headers["X-Humanseg-Confidence"])

    for fields in ({}, {"type": "foreground"}, {"model": "selfie"}):
        assert 0.5 < confidence(images.astronaut(), **fields) <= 1.0
    assert confidence(images.page()) > 0.5
    assert confidence(images.coffee()) < 0.5
    assert confidence(images.coffee(), model="selfie") < 0.5


def test_empty_type_is_the_matte(client: httpx.Client) -> None:
    photo = base64.b64encode(images.astronaut_jpeg()).decode()
    assert result_image(segment(client, img=photo, type="")).mode == "L"


def test_foreground_returns_rgba_cutout_without_background_colour(client: httpx.Client) -> None:
    photo = images.astronaut()
    cutout = result_image(
        segment(
            client, img=base64.b64encode(images.encode(photo, "PNG")).decode(), type="foreground"
        )
    )
    assert cutout.mode == "RGBA"
    assert cutout.size == photo.size
    rgba = np.asarray(cutout)
    assert_person_matte(rgba[..., 3])
    opaque = rgba[..., 3] == 255
    # the person's colours are the photo's own (lossless PNG input)
    assert np.array_equal(rgba[..., :3][opaque], np.asarray(photo)[opaque])
    # nothing of the removed background survives under fully transparent pixels
    assert not rgba[..., :3][rgba[..., 3] == 0].any()


def test_matte_is_smooth_not_blocky(client: httpx.Client) -> None:
    """Upscaled 4× from the fused 512 px map, edges must ramp, not step in blocks."""
    big = images.astronaut().resize((2048, 2048))
    matte = np.asarray(
        result_image(segment(client, img=base64.b64encode(images.encode(big, "JPEG")).decode()))
    ).astype(int)
    steps = np.abs(np.diff(matte, axis=1))
    edge_steps = steps[steps > 0]
    # bilinear upsampling spreads each map-pixel transition over 4 output pixels here, and
    # the pipeline steepens it twice around 0.5: every transition still takes two pixels or
    # more (a blocky matte would jump 0 → 255 at once)
    assert edge_steps.max() <= 128
    intermediate = ((matte > 10) & (matte < 245)).mean()
    assert intermediate > 0.001


def test_url_input_over_http(client: httpx.Client, file_server: str) -> None:
    matte = result_image(segment(client, url=f"{file_server}/files/astronaut.jpg"))
    assert matte.size == (512, 512)
    assert_person_matte(np.asarray(matte))


def test_url_redirect_is_followed(client: httpx.Client, file_server: str) -> None:
    target = f"{file_server}/files/astronaut.png"
    response = client.post(
        "/human_image_segmentation",
        json={"url": f"{file_server}/redirect?to={target}", "type": "foreground"},
    )
    assert result_image(response).mode == "RGBA"


def test_s3_input(client: httpx.Client, s3_server: str) -> None:
    cutout = result_image(
        segment(client, url=f"s3://{BUCKET}/people/astronaut.jpg", type="foreground")
    )
    assert cutout.mode == "RGBA" and cutout.size == (512, 512)
    assert_person_matte(np.asarray(cutout)[..., 3])


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", None]
)
def test_plain_json_body_is_accepted_whatever_the_content_type(
    client: httpx.Client, content_type: str | None
) -> None:
    """`curl -d '{...}'` sends form-encoded by default; it must still work."""
    body = b'{"img": "' + base64.b64encode(images.astronaut_jpeg()) + b'"}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/human_image_segmentation", content=body, headers=headers)
    assert result_image(response).mode == "L"


def test_base64_variants_are_accepted(client: httpx.Client) -> None:
    raw = base64.b64encode(images.astronaut_jpeg()).decode()
    mime = "\r\n".join(raw[i : i + 76] for i in range(0, len(raw), 76))  # Java's MIME encoder
    urlsafe = base64.urlsafe_b64encode(images.astronaut_jpeg()).decode().rstrip("=")
    for text in (mime, urlsafe, "data:image/jpeg;base64," + raw):
        assert result_image(segment(client, img=text)).size == (512, 512)


def test_python_requests_call_from_the_spec_works(server: str) -> None:
    """SPEC §1: a plain `requests.post(url, json=...)`, no SDK."""
    requests = pytest.importorskip("requests")
    photo = base64.b64encode(images.astronaut_jpeg()).decode()
    response = requests.post(
        f"{server}/human_image_segmentation", json={"img": photo, "type": "foreground"}, timeout=60
    )
    assert response.status_code == 200
    assert images.decode(base64.b64decode(response.json()["result"])).mode == "RGBA"


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["default_model"] == "auto"
    assert body["models"]["selfie"]["provider"]  # auto runs on selfie


def test_openapi_and_docs(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/human_image_segmentation"]["post"]
    request = operation["requestBody"]["content"]["application/json"]
    assert set(request["examples"]) >= {"img", "url", "s3", "foreground", "model"}
    assert set(schema["components"]["schemas"]["SeedRequest"]["properties"]) == {
        "img",
        "url",
        "type",
        "model",
    }
    for status in ("200", "400", "413", "415", "422", "502", "503", "504"):
        assert status in operation["responses"], status
    assert operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorResponse"
    )
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_docs_example_actually_works(client: httpx.Client) -> None:
    """The 'Try it out' example in /docs is a real image, so trying it out succeeds."""
    schema = client.get("/openapi.json").json()
    request = schema["paths"]["/human_image_segmentation"]["post"]["requestBody"]
    example = request["content"]["application/json"]["examples"]["foreground"]["value"]
    assert result_image(client.post("/human_image_segmentation", json=example)).mode == "RGBA"
