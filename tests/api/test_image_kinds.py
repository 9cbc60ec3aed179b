"""Every kind of JPEG, PNG and BMP a user may send, through the real server."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support import images


def segment(client: httpx.Client, data: bytes, kind: str = "") -> Image.Image:
    response = client.post(
        "/human_image_segmentation", json={"img": base64.b64encode(data).decode(), "type": kind}
    )
    assert response.status_code == 200, response.text[:300]
    return images.decode(base64.b64decode(response.json()["result"]))


def astronaut_in_mode(mode: str) -> Image.Image:
    photo = images.astronaut()
    if mode == "I;16":
        gray = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
        return Image.fromarray(gray)  # uint16 → mode "I;16"
    if mode == "P":
        return photo.quantize(256)
    return photo.convert(mode)


KINDS = [
    ("JPEG", "RGB"),
    ("JPEG", "L"),
    ("JPEG", "CMYK"),
    ("PNG", "RGB"),
    ("PNG", "L"),
    ("PNG", "P"),
    ("PNG", "I;16"),
    ("PNG", "RGBA"),
    ("PNG", "LA"),
    ("PNG", "1"),
    ("BMP", "RGB"),
    ("BMP", "L"),
    ("BMP", "P"),
    ("BMP", "1"),
]


@pytest.mark.parametrize(("fmt", "mode"), KINDS, ids=[f"{f}-{m}" for f, m in KINDS])
def test_format_and_mode(client: httpx.Client, fmt: str, mode: str) -> None:
    data = images.encode(astronaut_in_mode(mode), fmt)
    assert Image.open(io.BytesIO(data)).mode in (mode, "RGB", "L", "I", "I;16")
    for kind in ("", "foreground"):
        result = segment(client, data, kind)
        assert result.size == (512, 512)
        alpha = np.asarray(result)[..., 3] if kind else np.asarray(result)
        head, corners = images.person_region_alpha(alpha)
        if mode != "1":  # a 1-bit photo is barely a photo; only check it is processed
            assert head > 0.7 and corners < 0.2, (head, corners)


def test_sixteen_bit_png_is_scaled_not_clipped(client: httpx.Client) -> None:
    """16-bit gray must be scaled to 8 bits; clipping would make it an all-white image."""
    data = images.encode(astronaut_in_mode("I;16"), "PNG")
    head, corners = images.person_region_alpha(np.asarray(segment(client, data)))
    assert head > 0.8 and corners < 0.1


def test_sixteen_bit_rgb_png(client: httpx.Client) -> None:
    """A 48-bit RGB PNG, written by hand since Pillow writes at most 8 bits per RGB channel."""
    rgb = np.asarray(images.astronaut(), dtype=np.uint16) * 257
    scanlines = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb)
    png = images.raw_png(512, 512, bit_depth=16, color_type=2, pixels=scanlines)
    head, corners = images.person_region_alpha(np.asarray(segment(client, png)))
    assert head > 0.8 and corners < 0.1


def test_own_alpha_is_kept(client: httpx.Client) -> None:
    """Pixels transparent in the input stay transparent in the matte and the cut-out."""
    rgba = np.asarray(images.astronaut().convert("RGBA")).copy()
    rgba[:, 256:, 3] = 0  # right half transparent
    data = images.encode(Image.fromarray(rgba, "RGBA"), "PNG")
    matte = np.asarray(segment(client, data))
    assert matte[:, 256:].max() == 0
    assert matte[100:200, 180:250].mean() > 200  # the left of her face is still there
    cutout = np.asarray(segment(client, data, "foreground"))
    assert cutout[:, 256:, 3].max() == 0


def test_palette_png_with_transparency(client: httpx.Client) -> None:
    quantized = images.astronaut().quantize(200)
    indices = np.asarray(quantized).copy()
    indices[:64, :] = 255  # a band at the top drawn with the transparent palette entry
    image = Image.fromarray(indices, "P")
    image.putpalette(quantized.getpalette()[: 200 * 3] + [0, 0, 0] * 56)
    data = images.encode(image, "PNG", transparency=255)
    assert np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))[:64, :, 3].max() == 0
    matte = np.asarray(segment(client, data))
    assert matte[:64].max() == 0


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(client: httpx.Client, orientation: int) -> None:
    """A rotated camera JPEG: the result is at the upright size and the head where it is seen."""
    upright = images.astronaut().resize((512, 384))
    undo = {
        3: Image.Transpose.ROTATE_180,
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    stored = upright.transpose(undo)  # what the sensor wrote; EXIF says how to turn it upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = images.encode(stored, "JPEG", exif=exif.tobytes(), quality=92)
    matte = segment(client, data)
    assert matte.size == (512, 384)
    head, corners = images.person_region_alpha(np.asarray(matte))
    assert head > 0.8 and corners < 0.1, (head, corners)


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (4096, 3)])
def test_tiny_and_extreme_shapes(client: httpx.Client, size: tuple[int, int]) -> None:
    data = images.encode(Image.new("RGB", size, (200, 100, 50)), "PNG")
    assert segment(client, data).size == size
    assert segment(client, data, "foreground").size == size


def test_progressive_jpeg(client: httpx.Client) -> None:
    data = images.encode(images.astronaut(), "JPEG", progressive=True, quality=85)
    head, corners = images.person_region_alpha(np.asarray(segment(client, data)))
    assert head > 0.8 and corners < 0.1


def test_person_free_photo_is_processed(client: httpx.Client) -> None:
    matte = segment(client, images.encode(images.coffee(), "JPEG"))
    assert matte.size == images.coffee().size
