"""Image bytes in and out: sniff the format, enforce limits, decode to RGB (+ own alpha), encode.

Nothing here knows about models or HTTP. Limits are checked from the header, before any pixel
is decoded, so a small file that declares a huge image (a decompression bomb) costs nothing.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps

from humanseg.errors import ErrorCode, error

try:
    import fpng as _fpng
except ImportError:  # pragma: no cover - fpng ships wheels for the common platforms
    _fpng = None

ImageFile.LOAD_TRUNCATED_IMAGES = False

# Encoders write 1 (baseline) to about 12 (progressive) scans; 64 bounds a 16 MP decode to ~1 s.
MAX_JPEG_SCANS = 64

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

Picture = Image.Image | np.ndarray  # an image, or its H×W×C uint8 pixels


# EXIF orientations that swap width and height.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


@dataclass(frozen=True)
class DecodedImage:
    """A decoded photo, upright.

    ``rgb`` is 8-bit RGB: an H×W×3 array for JPEGs, a Pillow image otherwise (see
    ``Picture``). When decoded for the model only it may be smaller than ``size`` (JPEG DCT
    scaling), otherwise it is exactly ``size``. ``alpha`` is the image's own transparency at
    full size, or None when it has none.
    """

    rgb: Picture
    alpha: np.ndarray | None
    size: tuple[int, int]
    format: str


def sniff_format(data: bytes) -> str:
    """Return "JPEG", "PNG" or "BMP" from the magic bytes, or raise 415/422."""
    if not data:
        raise error(ErrorCode.INVALID_IMAGE, "The image is empty (0 bytes).")
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"BM") and len(data) >= 26:
        return "BMP"
    name = _other_format_name(data)
    what = f"a {name} file" if name else "not a recognised image"
    raise error(
        ErrorCode.UNSUPPORTED_FORMAT,
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
        raise error(
            ErrorCode.IMAGE_TOO_LARGE, f"The image declares too many pixels: {exc}"
        ) from None
    except Exception:
        raise error(
            ErrorCode.INVALID_IMAGE, f"The bytes start like a {fmt} file but its header is invalid."
        ) from None


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not reject an otherwise good photo
        return 1


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    width, height = img.size
    if _orientation(img) in _TRANSPOSING_ORIENTATIONS:
        return height, width
    return width, height


def check_limits(size: tuple[int, int], *, max_side: int, max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise error(
            ErrorCode.INVALID_IMAGE, f"The image declares an empty size of {width}×{height}."
        )
    if max(width, height) > max_side:
        raise error(
            ErrorCode.IMAGE_TOO_LARGE,
            f"The image is {width}×{height} px; the longest side may be at most {max_side} px.",
        )
    if width * height > max_pixels:
        raise error(
            ErrorCode.IMAGE_TOO_LARGE,
            f"The image has {width * height} pixels; at most {max_pixels} are accepted.",
        )


def jpeg_scans(data: bytes) -> int:
    """How many scans (SOS markers) a JPEG has, at most: each is a full pass over the image.

    Counting the marker's bytes is enough: inside entropy-coded data every 0xFF byte is
    followed by 0x00 or a restart marker, so each ``FF DA`` is a scan header or (rarely) bytes
    inside a metadata segment, and the count never falls short of what the decoder will see.
    """
    return data.count(b"\xff\xda")


def check_cost(data: bytes, fmt: str, *, max_jpeg_scans: int) -> None:
    """Refuse an image whose decoding costs a multiple of its pixels, before decoding it.

    A progressive JPEG may have thousands of (empty) refinement scans, each a full pass over
    the image: a 100 KB file can cost a core for tens of seconds. PNG and BMP decode in time
    proportional to their (already limited) pixels.
    """
    if fmt == "JPEG":
        scans = jpeg_scans(data)
        if scans > max_jpeg_scans:
            raise error(
                ErrorCode.IMAGE_TOO_COMPLEX,
                f"The JPEG has {scans} scans; at most {max_jpeg_scans} are decoded "
                "(HUMANSEG_MAX_JPEG_SCANS). Re-save it as a baseline JPEG.",
            )


def probe(
    data: bytes, *, max_side: int, max_pixels: int, max_jpeg_scans: int = MAX_JPEG_SCANS
) -> tuple[str, tuple[int, int]]:
    """Format and upright size of an image, read from its header only; limits enforced."""
    fmt = sniff_format(data)
    img = _open(data, fmt)
    size = _oriented_size(img)
    check_limits(size, max_side=max_side, max_pixels=max_pixels)
    check_cost(data, fmt, max_jpeg_scans=max_jpeg_scans)
    return fmt, size


def decode(
    data: bytes,
    *,
    max_side: int,
    max_pixels: int,
    draft_size: tuple[int, int] | None = None,
    max_jpeg_scans: int = MAX_JPEG_SCANS,
) -> DecodedImage:
    """Decode image bytes to an upright RGB image plus its own alpha.

    With ``draft_size``, a JPEG may be decoded at a reduced scale no smaller than that size
    (libjpeg DCT scaling), which is much faster when only the model will look at the pixels.
    """
    fmt = sniff_format(data)
    img = _open(data, fmt)
    size = _oriented_size(img)
    check_limits(size, max_side=max_side, max_pixels=max_pixels)
    check_cost(data, fmt, max_jpeg_scans=max_jpeg_scans)
    if fmt == "JPEG":
        scale = _dct_scale(img.size, draft_size)
        pixels = _decode_jpeg_pixels(data, img, size, scale)
        if pixels is not None:
            return DecodedImage(rgb=pixels, alpha=None, size=size, format=fmt)
        if scale > 1:
            longest = max(draft_size or (1, 1))
            img.draft(img.mode, (longest, longest))
    try:
        img.load()
        ImageOps.exif_transpose(img, in_place=True)  # without a copy when upright
        rgb, alpha = _to_rgb_and_alpha(img)
    except Exception:
        raise error(
            ErrorCode.INVALID_IMAGE,
            f"The {fmt} data is corrupt or truncated and cannot be decoded.",
        ) from None
    if alpha is not None and rgb.size != size:  # never happens: alpha formats are not drafted
        raise error(ErrorCode.INVALID_IMAGE, "The image's transparency does not match its size.")
    return DecodedImage(rgb=rgb, alpha=alpha, size=size, format=fmt)


def _dct_scale(size: tuple[int, int], draft_size: tuple[int, int] | None) -> int:
    """The JPEG DCT scale (1, 2, 4 or 8) that keeps both sides at least ``draft_size``'s
    longest side, as Pillow's ``draft`` chooses it."""
    if draft_size is None:
        return 1
    longest = max(draft_size)
    fits = min(size[0] // longest, size[1] // longest)
    return next((scale for scale in (8, 4, 2) if fits >= scale), 1)


# OpenCV's flags for decoding at 1/scale of the size, in RGB order
_CV_SCALE_FLAGS = {
    1: cv2.IMREAD_COLOR_RGB,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2 | cv2.IMREAD_COLOR_RGB,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4 | cv2.IMREAD_COLOR_RGB,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8 | cv2.IMREAD_COLOR_RGB,
}


def _decode_jpeg_pixels(
    data: bytes, img: Image.Image, size: tuple[int, int], scale: int
) -> np.ndarray | None:
    """A JPEG decoded by OpenCV straight into an upright RGB array (the same libjpeg-turbo
    pixels as Pillow's, without Pillow's copy out of its own storage: 3.0 against 4.3 ms for
    1 MP), or None to leave it to Pillow: CMYK files (OpenCV converts their colours a little
    differently), and files that do not end with the end-of-image marker, since OpenCV
    returns a truncated file's missing rows as grey where Pillow refuses the file."""
    if img.mode not in ("RGB", "L") or not data.endswith(b"\xff\xd9"):
        return None
    flags = _CV_SCALE_FLAGS[scale] | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if pixels is None:
        return None
    pixels = _upright(pixels, _orientation(img))  # Pillow's reading of the EXIF, as elsewhere
    expected = (-(-size[1] // scale), -(-size[0] // scale), 3)
    return pixels if pixels.shape == expected else None


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Pixels turned as EXIF ``orientation`` says (what ``ImageOps.exif_transpose`` does)."""
    if orientation == 2:
        return cv2.flip(pixels, 1)
    if orientation == 3:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(pixels, 0)
    if orientation == 5:
        return cv2.transpose(pixels)
    if orientation == 6:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return pixels


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


def as_image(picture: Picture) -> Image.Image:
    return picture if isinstance(picture, Image.Image) else Image.fromarray(picture)


def picture_size(picture: Picture) -> tuple[int, int]:
    """(width, height) of an image or of an array of pixels."""
    if isinstance(picture, Image.Image):
        return picture.size
    return picture.shape[1], picture.shape[0]


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


# --- resizing arrays (OpenCV) ---------------------------------------------------------


def resize_array(image: np.ndarray, size: tuple[int, int], *, area: bool = True) -> np.ndarray:
    """An image or map (uint8 or float32) resized to ``size`` = (width, height).

    Shrinking averages the pixels each output pixel covers (every source pixel counts, as with
    Pillow's filters); growing is bilinear. OpenCV rather than Pillow: several times faster,
    and no copy into an image object. OpenCV averages 2×2 blocks far faster than any other
    area (0.2 ms against 4 ms for a 1 MP photo), so a shrink by 2× or more first halves the
    image as often as it can, leaving an odd last row or column out of each halving, then
    averages the remaining areas (or, without ``area``, interpolates them bilinearly). Returns
    the input itself if it already has that size.
    """
    image = halved(image, size)
    height, width = image.shape[:2]
    if (width, height) == size:
        return image
    shrinking = size[0] < width or size[1] < height
    method = cv2.INTER_AREA if shrinking and area else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=method)


def halved(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` halved by 2×2 averaging as long as both sides stay at least twice ``size``:
    the first, fast steps of ``resize_array`` towards ``size``, to share between resizes."""
    height, width = image.shape[:2]
    while width >= 2 * size[0] and height >= 2 * size[1]:
        image = image[: height - height % 2, : width - width % 2]
        height, width = height // 2, width // 2
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return image


def fit_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so that its longest side is at most ``longest``."""
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_nearest(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_NEAREST)
