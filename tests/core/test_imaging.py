"""Pure functions of the imaging module."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from humanseg import imaging
from humanseg.errors import HumansegError
from tests.support import images


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L"])
@pytest.mark.parametrize("fast", [True, False])
def test_png_encoders_are_lossless(mode: str, fast: bool) -> None:
    rng = np.random.default_rng(1)
    channels = {"RGBA": 4, "RGB": 3, "L": 1}[mode]
    pixels = rng.integers(0, 256, (37, 53, channels), dtype=np.uint8).squeeze()
    encoded = imaging.encode_png(Image.fromarray(pixels, mode), compress_level=1, fast=fast)
    decoded = Image.open(io.BytesIO(encoded))
    assert decoded.format == "PNG" and decoded.mode == mode
    assert np.array_equal(np.asarray(decoded), pixels)


def test_sniff_names_what_it_refuses() -> None:
    webp = images.encode(Image.new("RGB", (4, 4)), "WEBP")
    with pytest.raises(HumansegError, match="WebP") as raised:
        imaging.sniff_format(webp)
    assert raised.value.code == "unsupported_format"


def test_probe_reads_only_the_header() -> None:
    """A PNG declaring 30000² pixels with almost no data: refused from its header alone."""
    bomb = images.raw_png(30000, 30000, bit_depth=8, color_type=0, pixels=b"\0")
    with pytest.raises(HumansegError) as raised:
        imaging.probe(bomb, max_side=4096, max_pixels=4096 * 4096)
    assert raised.value.code == "image_too_large"


def test_draft_decode_keeps_the_full_size_in_metadata() -> None:
    jpeg = images.encode(images.astronaut().resize((2048, 2048)), "JPEG")
    decoded = imaging.decode(jpeg, max_side=4096, max_pixels=1 << 24, draft_size=(256, 256))
    assert decoded.size == (2048, 2048)
    assert 256 <= imaging.picture_size(decoded.rgb)[0] < 2048


def _pillow_decode(data: bytes, draft: int | None = None) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    if draft:
        image.draft("RGB", (draft, draft))
    return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("draft", [None, 100])
def test_jpeg_arrays_match_pillow(orientation: int, draft: int | None) -> None:
    """JPEGs decode (through OpenCV) to exactly Pillow's upright pixels, drafts included."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = images.encode(images.astronaut().crop((0, 0, 512, 300)), "JPEG", exif=exif.tobytes())
    decoded = imaging.decode(
        data, max_side=4096, max_pixels=1 << 24, draft_size=(draft, draft) if draft else None
    )
    assert isinstance(decoded.rgb, np.ndarray)
    assert decoded.size == ((300, 512) if orientation >= 5 else (512, 300))
    assert np.array_equal(decoded.rgb, _pillow_decode(data, draft))


def test_grayscale_jpeg_decodes_to_rgb() -> None:
    data = images.encode(images.astronaut().convert("L"), "JPEG")
    decoded = imaging.decode(data, max_side=4096, max_pixels=1 << 24)
    assert np.array_equal(np.asarray(decoded.rgb), _pillow_decode(data))


def test_cmyk_jpeg_keeps_pillows_colours() -> None:
    data = images.encode(images.astronaut().convert("CMYK"), "JPEG")
    decoded = imaging.decode(data, max_side=4096, max_pixels=1 << 24)
    assert np.array_equal(np.asarray(decoded.rgb), _pillow_decode(data))


@pytest.mark.parametrize("keep", [300, 2000, -2])
def test_truncated_jpeg_is_refused(keep: int) -> None:
    """Cut anywhere (even just before the end-of-image marker), a JPEG is invalid, not grey."""
    data = images.astronaut_jpeg()[:keep]
    with pytest.raises(HumansegError) as raised:
        imaging.decode(data, max_side=4096, max_pixels=1 << 24)
    assert raised.value.code == "invalid_image"


def test_resize_array_averages_every_pixel_when_shrinking() -> None:
    # a 1-pixel checkerboard: any method that skips pixels comes out black or white
    board = (np.indices((64, 96)).sum(axis=0) % 2 * 255).astype(np.uint8)
    for size in ((48, 32), (24, 16), (20, 13), (7, 5)):  # halvings, then the remaining area
        small = imaging.resize_array(board, size)
        assert small.shape == (size[1], size[0])
        assert np.all(np.abs(small.astype(int) - 128) <= 2), size


def test_resize_array_grows_bilinearly_and_keeps_same_size_input() -> None:
    ramp = np.linspace(0.0, 1.0, 16, dtype=np.float32).reshape(4, 4)
    assert imaging.resize_array(ramp, (4, 4)) is ramp
    grown = imaging.resize_array(ramp, (8, 8))
    assert grown.dtype == np.float32 and grown.shape == (8, 8)
    assert grown.min() >= 0.0 and grown.max() <= 1.0
    assert np.all(np.diff(grown, axis=1) >= 0)  # monotonic like its source


def test_fit_size_shrinks_the_longest_side_and_never_grows() -> None:
    assert imaging.fit_size((4000, 3000), 512) == (512, 384)
    assert imaging.fit_size((300, 900), 512) == (171, 512)
    assert imaging.fit_size((100, 50), 512) == (100, 50)
