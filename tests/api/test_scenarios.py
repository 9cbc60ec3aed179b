"""The users' jobs on the seed endpoint over a real server: mask, background, blur, crop,
ID photos, output formats, and a 400/422 with its own code for every bad value."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from humanseg.api.examples import SEED_REQUEST_EXAMPLES
from humanseg.outputs import ID_PRESETS
from tests.support import images


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PHOTO = b64(images.encode(images.astronaut(), "PNG"))


def post(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/human_image_segmentation", json={"img": PHOTO, **body})


def result(response: httpx.Response, fmt: str = "PNG") -> Image.Image:
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(base64.b64decode(response.json()["result"])))
    assert image.format == fmt
    image.load()
    return image


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_mask_is_binary_and_agrees_with_the_matte(client: httpx.Client) -> None:
    mask = np.asarray(result(post(client, type="mask")))
    matte = np.asarray(result(post(client)))
    assert set(np.unique(mask)) == {0, 255}
    assert np.array_equal(mask == 255, matte >= 128)
    head, corners = images.person_region_alpha(mask)
    assert head > 0.85 and corners < 0.10


def test_background_colour_replaces_the_background(client: httpx.Client) -> None:
    image = result(post(client, type="background", bg_color="#00ff00"))
    assert image.mode == "RGB" and image.size == images.astronaut().size
    rgb = np.asarray(image).astype(int)
    photo = np.asarray(images.astronaut()).astype(int)
    matte = np.asarray(result(post(client)))
    background, person = matte == 0, matte == 255
    assert (rgb[background] == [0, 255, 0]).all()
    assert np.array_equal(rgb[person], photo[person])


def test_translucent_background_colour_keeps_alpha(client: httpx.Client) -> None:
    image = result(post(client, type="background", bg_color="rgba(0,0,255,0.5)"))
    assert image.mode == "RGBA"
    rgba = np.asarray(image)
    matte = np.asarray(result(post(client)))
    assert (rgba[matte == 0] == [0, 0, 255, 128]).all()
    assert (rgba[matte == 255, 3] == 255).all()


def test_background_image_from_base64_and_url(client: httpx.Client, file_server: str) -> None:
    backdrop = images.coffee()
    inline = result(
        post(client, type="background", bg_img=b64(images.encode(backdrop, "PNG")), format="jpeg"),
        "JPEG",
    )
    assert inline.size == images.astronaut().size
    matte = np.asarray(result(post(client)))
    background = matte == 0
    # where the photo's background was, the coffee scene is now
    new = np.asarray(inline)[background].astype(int)
    old = np.asarray(images.astronaut())[background].astype(int)
    assert np.abs(new - old).mean() > 20
    by_url = result(
        post(client, type="background", bg_url=f"{file_server}/files/astronaut.jpg"), "PNG"
    )
    assert by_url.mode == "RGB"


def test_blur_keeps_the_person_and_softens_the_background(client: httpx.Client) -> None:
    photo = np.asarray(images.astronaut()).astype(float)
    matte = np.asarray(result(post(client)))
    background = matte == 0

    def roughness(image: np.ndarray) -> float:
        gray = image.mean(axis=2)
        return float(np.abs(np.diff(gray, axis=1))[background[:, 1:]].mean())

    outputs = {}
    for strength in (0.2, 0.9):
        image = np.asarray(result(post(client, type="blur", blur_strength=strength))).astype(float)
        person = matte == 255
        assert np.array_equal(image[person], photo[person])
        outputs[strength] = roughness(image)
    assert outputs[0.9] < outputs[0.2] < roughness(photo)


def test_crop_is_tight_with_its_margin(client: httpx.Client) -> None:
    matte = np.asarray(result(post(client)))
    rows, cols = np.nonzero(matte >= 16)
    person_w, person_h = cols.max() + 1 - cols.min(), rows.max() + 1 - rows.min()
    tight = result(post(client, type="crop"))
    assert tight.mode == "RGBA"
    assert tight.size == (person_w, person_h)
    padded = result(post(client, type="crop", crop_margin="20px"))
    assert padded.size == (person_w + 40, person_h + 40)
    alpha = np.asarray(padded)[..., 3]
    # the margin is transparent (below the crop threshold at most)
    assert alpha[:20].max() < 16 and alpha[:, :20].max() < 16
    relative = result(post(client, type="crop", crop_margin="10% 0"))
    assert relative.size == (person_w, person_h + 2 * round(0.1 * person_h))


def test_crop_of_a_photo_without_a_person(client: httpx.Client) -> None:
    empty = Image.new("RGB", (300, 200), (40, 90, 160))
    response = client.post(
        "/human_image_segmentation",
        json={"img": b64(images.encode(empty, "PNG")), "type": "crop"},
    )
    assert_error(response, 422, "no_person")


@pytest.mark.parametrize(
    ("preset", "size"),
    [("1inch", (295, 413)), ("2inch", (413, 579)), ("passport", (413, 531)), ("us", (600, 600))],
)
def test_id_photo_presets(client: httpx.Client, preset: str, size: tuple[int, int]) -> None:
    image = result(post(client, type="id_photo", id_preset=preset, bg_color="blue"))
    assert image.mode == "RGB" and image.size == size
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    rgb = np.asarray(image).astype(int)
    # plain ID blue above the head, in both top corners
    for corner in (rgb[:8, :8], rgb[:8, -8:]):
        assert (np.abs(corner - [67, 142, 219]).max(axis=2) <= 2).all()
    # the crown (first non-background row) is where the preset's rule puts it, and the head
    # is centred
    non_bg = np.abs(rgb - [67, 142, 219]).max(axis=2) > 30
    first_row = np.flatnonzero(non_bg.any(axis=1))[0]
    assert abs(first_row / size[1] - ID_PRESETS[preset].top_ratio) < 0.02
    top_half = non_bg[: size[1] // 2]
    cols = np.flatnonzero(top_half.any(axis=0))
    centre = (cols[0] + cols[-1]) / 2
    assert abs(centre - size[0] / 2) < 0.1 * size[0]


def test_id_photo_colours_and_jpeg(client: httpx.Client) -> None:
    white = np.asarray(result(post(client, type="id_photo", format="jpeg"), "JPEG")).astype(int)
    assert (white[:5, :5] > 245).all()
    red = np.asarray(result(post(client, type="id_photo", bg_color="red"))).astype(int)
    assert (red[:5, :5] == [255, 0, 0]).all()
    custom = np.asarray(result(post(client, type="id_photo", bg_color="#123456"))).astype(int)
    assert (custom[:5, :5] == [0x12, 0x34, 0x56]).all()


def test_id_photo_without_a_face(client: httpx.Client) -> None:
    body = {"img": b64(images.encode(images.coffee(), "JPEG")), "type": "id_photo"}
    assert_error(client.post("/human_image_segmentation", json=body), 422, "no_face")


def test_id_photo_with_two_faces(client: httpx.Client) -> None:
    two = Image.new("RGB", (1024, 512))
    two.paste(images.astronaut(), (0, 0))
    two.paste(images.astronaut(), (512, 0))
    body = {"img": b64(images.encode(two, "JPEG")), "type": "id_photo"}
    assert_error(client.post("/human_image_segmentation", json=body), 422, "multiple_faces")


@pytest.mark.parametrize(
    ("body", "fmt", "mode"),
    [
        ({"type": "foreground", "format": "webp"}, "WEBP", "RGBA"),
        ({"format": "webp"}, "WEBP", "RGB"),  # WebP has no grayscale: gray RGB
        ({"format": "jpeg"}, "JPEG", "L"),
        ({"type": "mask", "format": "jpeg"}, "JPEG", "L"),
        ({"type": "blur", "format": "webp"}, "WEBP", "RGB"),
        ({"type": "background", "bg_color": "white", "format": "jpg"}, "JPEG", "RGB"),
        ({"type": "crop", "format": "png"}, "PNG", "RGBA"),
    ],
)
def test_formats(client: httpx.Client, body: dict, fmt: str, mode: str) -> None:
    image = result(post(client, **body), fmt)
    assert image.mode == mode


def test_webp_cutout_is_lossless(client: httpx.Client) -> None:
    png = np.asarray(result(post(client, type="foreground")))
    webp = np.asarray(result(post(client, type="foreground", format="webp"), "WEBP"))
    visible = png[..., 3] > 0
    assert np.array_equal(png[visible], webp[visible])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "foreground", "format": "jpeg"}, 400, "invalid_format"),
        ({"format": "gif"}, 400, "invalid_format"),
        ({"format": "zip"}, 400, "invalid_format"),
        ({"type": "background"}, 400, "missing_background"),
        ({"type": "background", "bg_color": "#12345"}, 400, "invalid_color"),
        ({"type": "background", "bg_color": "rgba(300,0,0,1)"}, 400, "invalid_color"),
        ({"type": "background", "bg_color": "notacolour"}, 400, "invalid_color"),
        ({"type": "background", "bg_img": "%%%"}, 400, "invalid_base64"),
        ({"type": "background", "bg_img": b64(b"text")}, 415, "unsupported_format"),
        ({"type": "background", "bg_img": "AAAA", "bg_url": "http://x/"}, 400, "conflicting_input"),
        ({"type": "background", "bg_url": "http://127.0.0.2:9/"}, 400, "url_forbidden"),
        ({"type": "crop", "crop_margin": "ten"}, 400, "invalid_margin"),
        ({"type": "crop", "crop_margin": "1 2 3 4 5"}, 400, "invalid_margin"),
        ({"type": "crop", "crop_margin": "200%"}, 400, "invalid_margin"),
        ({"type": "crop", "crop_margin": "2000px"}, 400, "invalid_margin"),  # over 16 MP
        ({"type": "id_photo", "id_preset": "3inch"}, 400, "invalid_id_preset"),
        ({"type": "id_photo", "bg_color": "#ff000080"}, 400, "invalid_color"),
        ({"type": "blur", "blur_strength": 2}, 400, "invalid_request"),
        ({"type": "blur", "blur_strength": "lots"}, 400, "invalid_request"),
        ({"refine": "maybe"}, 400, "invalid_request"),
        ({"keep_every_part": "maybe"}, 400, "invalid_request"),
    ],
)
def test_bad_values(client: httpx.Client, body: dict, status: int, code: str) -> None:
    assert_error(post(client, **body), status, code)


def test_refine_can_be_switched_off_per_request(client: httpx.Client) -> None:
    refined = np.asarray(result(post(client, refine=True))).astype(int)
    coarse = np.asarray(result(post(client, refine=False))).astype(int)
    assert not np.array_equal(refined, coarse)
    # the refinement only moves the edge band: the person and the background stay
    assert (np.abs(refined - coarse) > 0).mean() < 0.2


def test_every_explorer_example_runs(client: httpx.Client) -> None:
    for name, example in SEED_REQUEST_EXAMPLES.items():
        body = example["value"]
        if "img" not in body:
            continue  # the url examples point at placeholder addresses
        response = client.post("/human_image_segmentation", json=body)
        assert response.status_code == 200, (name, response.text)


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (2000, 3)])
@pytest.mark.parametrize(
    "body",
    [
        {"type": "mask"},
        {"type": "background", "bg_color": "red"},
        {"type": "blur"},
        {"type": "foreground", "format": "webp"},
        {"type": "id_photo"},
        {"type": "crop"},
    ],
)
def test_tiny_and_extreme_shapes(client: httpx.Client, size: tuple[int, int], body: dict) -> None:
    """Never a 500: an image or a clear 422 (no person / no face) for every shape and type."""
    data = images.encode(Image.new("RGBA", size, (200, 100, 50, 255)), "PNG")
    response = client.post("/human_image_segmentation", json={"img": b64(data), **body})
    if body["type"] in ("id_photo", "crop"):
        assert response.status_code in (200, 422), response.text
        if response.status_code == 422:
            assert response.json()["error"]["code"] in ("no_face", "no_person")
    else:
        assert response.status_code == 200, response.text
        fmt = "WEBP" if body.get("format") == "webp" else "PNG"
        assert result(response, fmt).size == size
