"""Image bytes in and out: sniff the format, enforce limits, decode to RGB (+ own alpha), encode.

Nothing here knows about models or HTTP. Limits are checked from the header, before any pixel
is decoded, so a small file that declares a huge image (a decompression bomb) costs nothing.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps

from humanseg.errors import error

try:
    import fpng as _fpng
except ImportError:  # pragma: no cover - fpng ships wheels for the common platforms
    _fpng = None

ImageFile.LOAD_TRUNCATED_IMAGES = False

SUPPORTED_FORMATS = ("JPEG", "PNG", "BMP")

# Signatures of formats we recognise but do not accept, so the 415 can name what was sent.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "PSD"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML/SVG"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
)

# EXIF orientations that swap width and height.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


@dataclass(frozen=True)
class DecodedImage:
    """A decoded photo, upright.

    ``rgb`` is 8-bit RGB; when decoded for the model only it may be smaller than ``size``
    (JPEG DCT scaling), otherwise it is exactly ``size``. ``alpha`` is the image's own
    transparency at full size, or None when it has none.
    """

    rgb: Image.Image
    alpha: np.ndarray | None
    size: tuple[int, int]
    format: str


def sniff_format(data: bytes) -> str:
    """Return "JPEG", "PNG" or "BMP" from the magic bytes, or raise 415/422."""
    if not data:
        raise error("invalid_image", "The image is empty (0 bytes).")
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"BM") and len(data) >= 26:
        return "BMP"
    name = _other_format_name(data)
    what = f"a {name} file" if name else "not a recognised image"
    raise error(
        "unsupported_format",
        f"The input is {what}; send a JPEG, PNG or BMP image.",
    )


def _other_format_name(data: bytes) -> str | None:
    head = data[:32]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "HEIC"
        return "MP4/QuickTime"
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return name
    return None


def _open(data: bytes, fmt: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise error("image_too_large", f"The image declares too many pixels: {exc}") from None
    except Exception:
        raise error(
            "invalid_image", f"The bytes start like a {fmt} file but its header is invalid."
        ) from None


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    width, height = img.size
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not reject an otherwise good photo
        orientation = 1
    if orientation in _TRANSPOSING_ORIENTATIONS:
        return height, width
    return width, height


def check_limits(size: tuple[int, int], *, max_side: int, max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise error("invalid_image", f"The image declares an empty size of {width}×{height}.")
    if max(width, height) > max_side:
        raise error(
            "image_too_large",
            f"The image is {width}×{height} px; the longest side may be at most {max_side} px.",
        )
    if width * height > max_pixels:
        raise error(
            "image_too_large",
            f"The image has {width * height} pixels; at most {max_pixels} are accepted.",
        )


def probe(data: bytes, *, max_side: int, max_pixels: int) -> tuple[str, tuple[int, int]]:
    """Format and upright size of an image, read from its header only; limits enforced."""
    fmt = sniff_format(data)
    img = _open(data, fmt)
    size = _oriented_size(img)
    check_limits(size, max_side=max_side, max_pixels=max_pixels)
    return fmt, size


def decode(
    data: bytes,
    *,
    max_side: int,
    max_pixels: int,
    draft_size: tuple[int, int] | None = None,
) -> DecodedImage:
    """Decode image bytes to an upright RGB image plus its own alpha.

    With ``draft_size``, a JPEG may be decoded at a reduced scale no smaller than that size
    (libjpeg DCT scaling), which is much faster when only the model will look at the pixels.
    """
    fmt = sniff_format(data)
    img = _open(data, fmt)
    size = _oriented_size(img)
    check_limits(size, max_side=max_side, max_pixels=max_pixels)
    if draft_size is not None and fmt == "JPEG":
        longest = max(draft_size)
        img.draft(img.mode, (longest, longest))
    try:
        img.load()
        ImageOps.exif_transpose(img, in_place=True)  # without a copy when upright
        rgb, alpha = _to_rgb_and_alpha(img)
    except Exception:
        raise error(
            "invalid_image", f"The {fmt} data is corrupt or truncated and cannot be decoded."
        ) from None
    if alpha is not None and rgb.size != size:  # never happens: alpha formats are not drafted
        raise error("invalid_image", "The image's transparency does not match its size.")
    return DecodedImage(rgb=rgb, alpha=alpha, size=size, format=fmt)


def _to_8bit(img: Image.Image) -> Image.Image:
    """High-bit-depth single-channel images (16-bit PNG, 32-bit int/float) scaled to 8 bits."""
    array = np.asarray(img)
    if img.mode == "F":
        scaled = np.clip(array, 0.0, 1.0) * 255.0 if array.max(initial=0) <= 1.0 else array
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L")
    wide = array.astype(np.uint32)
    peak = 65535 if img.mode.startswith("I;16") or wide.max(initial=0) > 255 else 255
    return Image.fromarray((wide * 255 // peak).clip(0, 255).astype(np.uint8), "L")


def _to_rgb_and_alpha(img: Image.Image) -> tuple[Image.Image, np.ndarray | None]:
    mode = img.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        img, mode = _to_8bit(img), "L"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in img.info
    )
    if has_alpha:
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        if alpha.min() == 255:
            alpha = None
        return rgba.convert("RGB"), alpha
    if mode != "RGB":
        img = img.convert("RGB")
    return img, None


Picture = Image.Image | np.ndarray  # an image, or its H×W×C uint8 pixels


def as_image(picture: Picture) -> Image.Image:
    return picture if isinstance(picture, Image.Image) else Image.fromarray(picture)


def encode_png(picture: Picture, *, compress_level: int, fast: bool = True) -> bytes:
    """Lossless PNG. With ``fast``, RGB(A) goes through fpng (several times faster than zlib level 1
    for larger files); grayscale mattes compress so well that zlib is fast for them anyway.
    Pixels given as an array are encoded without a copy through Pillow."""
    if fast and _fpng is not None:
        if isinstance(picture, np.ndarray) and picture.ndim == 3 and picture.shape[2] in (3, 4):
            return bytes(_fpng.from_ndarray(np.ascontiguousarray(picture)))
        if isinstance(picture, Image.Image) and picture.mode in ("RGB", "RGBA"):
            return bytes(_fpng.from_ndarray(np.asarray(picture)))
    buffer = io.BytesIO()
    as_image(picture).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def encode(
    picture: Picture,
    fmt: str,
    *,
    compress_level: int,
    fast: bool = True,
    quality: int = 90,
    dpi: int | None = None,
) -> bytes:
    """Encode as "png", "webp" (lossless when there is alpha, so edges stay exact) or "jpeg"."""
    extra: dict[str, object] = {"dpi": (dpi, dpi)} if dpi else {}
    if fmt == "png" and not extra:
        return encode_png(picture, compress_level=compress_level, fast=fast)
    img = as_image(picture)
    if fmt == "png":
        buffer = io.BytesIO()
        img.save(buffer, format="PNG", compress_level=compress_level, **extra)
        return buffer.getvalue()
    buffer = io.BytesIO()
    if fmt == "webp":
        lossless = img.mode in ("RGBA", "LA", "L")
        img.save(buffer, format="WEBP", lossless=lossless, quality=quality, method=0, **extra)
    elif fmt == "jpeg":
        if img.mode not in ("RGB", "L"):
            raise ValueError(f"JPEG cannot hold mode {img.mode}")
        img.save(buffer, format="JPEG", quality=quality, **extra)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return buffer.getvalue()


def encode_zip(picture: Picture, *, compress_level: int) -> bytes:
    """remove.bg's zip: ``color.jpg`` (the colours) and ``alpha.png`` (the matte)."""
    rgba = as_image(picture).convert("RGBA")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("color.jpg", encode(rgba.convert("RGB"), "jpeg", compress_level=0))
        archive.writestr(
            "alpha.png", encode_png(rgba.getchannel("A"), compress_level=compress_level)
        )
    return buffer.getvalue()
