"""Real test images, made with real codecs from scikit-image's bundled photos."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from functools import cache

import httpx
import numpy as np
from PIL import Image
from skimage import data


@cache
def astronaut() -> Image.Image:
    """NASA's public-domain portrait: a person filling most of the frame."""
    return Image.fromarray(data.astronaut())


@cache
def coffee() -> Image.Image:
    """A cup of coffee: no person at all."""
    return Image.fromarray(data.coffee())


# where the smaller one stands in ``two_people_apart()`` (rows, columns)
SMALL_PERSON = (slice(236, 536), slice(660, 960))


def two_people_apart() -> bytes:
    """The astronaut, and a copy of her at under half her area (300 × 300 px at
    ``SMALL_PERSON``), apart from her: pipelines drop the smaller one unless every part is
    kept."""
    big = np.asarray(astronaut())
    small = np.asarray(astronaut().resize((300, 300)))
    canvas = np.full((560, 1000, 3), 128, dtype=np.uint8)
    canvas[24:536, 24:536] = big
    canvas[SMALL_PERSON] = small
    return encode(Image.fromarray(canvas), "JPEG", quality=92)


@cache
def page() -> Image.Image:
    """A scanned page of text (scikit-image): nothing in it looks like a person."""
    return Image.fromarray(data.page()).convert("RGB")


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def astronaut_jpeg() -> bytes:
    return encode(astronaut(), "JPEG", quality=90)


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()
    return image


def person_region_alpha(alpha: np.ndarray) -> tuple[float, float]:
    """Mean opacity in [0, 1] of the astronaut's head and of the two top corners.

    The boxes are relative to the image size, so they hold for any scale. (The bottom
    corners hold her suit and helmet, which are rightly part of the person.)
    """
    height, width = alpha.shape
    head = alpha[int(0.10 * height) : int(0.40 * height), int(0.33 * width) : int(0.55 * width)]
    patch_h, patch_w = max(2, height // 8), max(2, width // 8)
    corners = np.concatenate(
        [alpha[:patch_h, :patch_w].ravel(), alpha[:patch_h, -patch_w:].ravel()]
    )
    return float(head.mean()) / 255.0, float(corners.mean()) / 255.0


def raw_png(width: int, height: int, *, bit_depth: int, color_type: int, pixels: bytes) -> bytes:
    """A PNG written chunk by chunk, for what Pillow will not write (48-bit RGB, lying headers).

    ``pixels`` is the filtered scanline data (each row prefixed with its filter byte).
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


@cache
def cat() -> Image.Image:
    """Chelsea the cat: an animal filling the frame, no person."""
    return Image.fromarray(data.chelsea())


def result_image(response: httpx.Response) -> Image.Image:
    """The image in a seed endpoint's successful JSON answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert list(payload) == ["result"]
    return decode(base64.b64decode(payload["result"]))


def assert_person_matte(alpha: np.ndarray) -> None:
    """The astronaut's head is opaque and the corners are clear."""
    head, corners = person_region_alpha(alpha)
    assert head > 0.85, f"head region only {head:.2f} opaque"
    assert corners < 0.10, f"corners {corners:.2f} opaque"
