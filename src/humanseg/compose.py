"""Turn a photo and its matte into the requested output image.

Arrays throughout: colours are H×W×3 uint8, mattes H×W uint8 (255 = person). Geometry (crop,
placement, ID-photo framing) works on a cut-out, i.e. colours plus alpha, and fills what lies
outside the photo with transparency.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from humanseg import imaging
from humanseg.models.geometry import bounds
from humanseg.outputs import RGBA, IdPreset, Margin

# A pixel counts as part of the person for cropping when its alpha reaches this value, so faint
# noise far from the person does not widen the crop.
SUBJECT_THRESHOLD = 16


def alpha_output(matte: np.ndarray) -> Image.Image:
    """The matte itself: 8-bit grayscale, 255 = person."""
    return Image.fromarray(matte, "L")


def mask_output(matte: np.ndarray) -> Image.Image:
    """A binary mask: 255 where the matte is at least half opaque, else 0."""
    return Image.fromarray(np.where(matte >= 128, 255, 0).astype(np.uint8), "L")


def foreground_output(rgb: Image.Image | np.ndarray, matte: np.ndarray) -> np.ndarray:
    """The photo with the matte as its alpha channel, as H×W×4 RGBA pixels.

    Colour is zeroed where alpha is 0, so the removed background cannot be recovered by
    dropping the alpha channel (and the PNG gets smaller).
    """
    pixels = np.asarray(rgb.convert("RGB")) if isinstance(rgb, Image.Image) else rgb
    visible = (matte > 0).view(np.uint8)
    colors = cv2.bitwise_and(pixels, pixels, mask=visible)
    return cv2.merge([colors, matte])


@dataclass(frozen=True)
class Cutout:
    """Foreground colours and their alpha, same height and width."""

    colors: np.ndarray
    alpha: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.alpha.shape[1], self.alpha.shape[0]


def subject_box(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the person, exclusive right/bottom; None if there is none."""
    return bounds(alpha >= SUBJECT_THRESHOLD)


def margin_box(box: tuple[int, int, int, int], margin: Margin) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    m_top, m_right, m_bottom, m_left = margin.pixels(right - left, bottom - top)
    return left - m_left, top - m_top, right + m_right, bottom + m_bottom


def crop(cutout: Cutout, box: tuple[int, int, int, int]) -> Cutout:
    """The part of ``cutout`` inside ``box``; what lies outside the photo is transparent."""
    left, top, right, bottom = box
    width, height = cutout.size
    colors = np.zeros((bottom - top, right - left, 3), dtype=np.uint8)
    alpha = np.zeros((bottom - top, right - left), dtype=np.uint8)
    src_l, src_t = max(left, 0), max(top, 0)
    src_r, src_b = min(right, width), min(bottom, height)
    if src_r > src_l and src_b > src_t:
        dst = (slice(src_t - top, src_b - top), slice(src_l - left, src_r - left))
        colors[dst] = cutout.colors[src_t:src_b, src_l:src_r]
        alpha[dst] = cutout.alpha[src_t:src_b, src_l:src_r]
    return Cutout(colors, alpha)


def resize(cutout: Cutout, size: tuple[int, int]) -> Cutout:
    """Resize colours and alpha together (colours premultiplied, so no dark fringes)."""
    if cutout.size == size:
        return cutout
    shrinking = size[0] < cutout.size[0]
    method = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    alpha = cutout.alpha.astype(np.float32)
    premultiplied = cutout.colors.astype(np.float32) * alpha[..., None]
    new_alpha = cv2.resize(alpha, size, interpolation=method)
    new_premultiplied = cv2.resize(premultiplied, size, interpolation=method)
    colors = new_premultiplied / np.maximum(new_alpha, 1e-3)[..., None]
    return Cutout(
        np.clip(colors + 0.5, 0, 255).astype(np.uint8),
        np.clip(new_alpha + 0.5, 0, 255).astype(np.uint8),
    )


def place(
    cutout: Cutout,
    canvas: tuple[int, int],
    *,
    scale: float | None,
    position: tuple[float, float] | None,
) -> Cutout:
    """remove.bg's ``scale``/``position``: resize the subject relative to the canvas and move it.

    ``scale`` makes the subject's box fit ``scale`` × the canvas; ``position`` (fractions, 0.5
    = centred) places its box within the free space. Without either the cut-out is unchanged.
    """
    box = subject_box(cutout.alpha)
    if box is None or (scale is None and position is None):
        return cutout
    subject = crop(cutout, box)
    width, height = subject.size
    if scale is not None:
        factor = scale * min(canvas[0] / width, canvas[1] / height)
        subject = resize(subject, (max(1, round(width * factor)), max(1, round(height * factor))))
    width, height = subject.size
    if position is None:
        position = (0.5, 0.5)
    left = round((canvas[0] - width) * position[0])
    top = round((canvas[1] - height) * position[1])
    return crop(subject, (-left, -top, canvas[0] - left, canvas[1] - top))


def flatten(cutout: Cutout, background: np.ndarray) -> np.ndarray:
    """The cut-out over an opaque background (H×W×3 uint8, or a broadcastable colour)."""
    colors = np.ascontiguousarray(cutout.colors)
    backdrop = np.asarray(background, np.uint8)
    if backdrop.shape != colors.shape:
        backdrop = np.ascontiguousarray(np.broadcast_to(backdrop, colors.shape))
    weight = cutout.alpha.astype(np.float32) * np.float32(1 / 255)
    # OpenCV blends 8-bit pictures with float weights in one pass over several cores, several
    # times faster than the same sum in numpy floats (it matters for every frame of a clip)
    return cv2.blendLinear(colors, backdrop, weight, 1.0 - weight)


def over_color(cutout: Cutout, color: RGBA) -> Image.Image:
    """The cut-out over a colour; an opaque colour gives RGB, a translucent one RGBA."""
    if color[3] == 255:
        return Image.fromarray(flatten(cutout, np.asarray(color[:3], np.uint8)), "RGB")
    # Porter-Duff "over" onto a translucent colour
    a_fg = cutout.alpha.astype(np.float32)[..., None] / 255
    a_bg = np.float32(color[3] / 255)
    a_out = a_fg + a_bg * (1 - a_fg)
    premultiplied = cutout.colors * a_fg + np.asarray(color[:3], np.float32) * a_bg * (1 - a_fg)
    colors = premultiplied / np.maximum(a_out, 1e-6)
    rgba = np.dstack([np.clip(colors + 0.5, 0, 255), np.clip(a_out * 255 + 0.5, 0, 255)])
    return Image.fromarray(rgba.astype(np.uint8), "RGBA")


def cover(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to cover ``size`` and centre-cropped, as an H×W×3 array."""
    width, height = size
    scale = max(width / image.width, height / image.height)
    scaled = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    resized = image.convert("RGB").resize(scaled, Image.Resampling.BILINEAR, reducing_gap=3.0)
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return np.asarray(resized.crop((left, top, left + width, top + height)))


# The blur radius at strength 1, as a fraction of the photo's longest side.
MAX_BLUR_SIGMA = 0.03
BLUR_WORK_SIDE = 768
BLUR_WORK_SIGMA = 4.0


def blurred_background(rgb: np.ndarray, alpha: np.ndarray, strength: float) -> np.ndarray:
    """The photo's background, blurred like a fast lens, with the person left out of the blur.

    A normalised convolution (blur of background-only colours divided by the blur of the
    background weight) keeps the person's colours from smearing into a halo around them. The
    blur is done at reduced size (a strong blur has no fine detail to lose) and scaled back.
    """
    height, width = alpha.shape
    if strength <= 0:
        return rgb
    # A blur of sigma s has no detail finer than about s, so it is computed where s is
    # BLUR_WORK_SIGMA pixels (at most BLUR_WORK_SIDE wide) and scaled back up: the cost of a
    # strong blur then does not grow with the photo or the strength.
    full_sigma = strength * MAX_BLUR_SIGMA * max(width, height)
    scale = min(1.0, BLUR_WORK_SIDE / max(width, height), BLUR_WORK_SIGMA / max(full_sigma, 1e-6))
    work = (max(1, round(width * scale)), max(1, round(height * scale)))
    small_rgb = imaging.resize_array(rgb, work).astype(np.float32)
    weight = 1.0 - imaging.resize_array(alpha, work).astype(np.float32) / 255
    weight = weight**2  # trust pixels that are surely background most
    sigma = max(0.5, strength * MAX_BLUR_SIGMA * max(work))
    blurred = cv2.GaussianBlur(small_rgb * weight[..., None], (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    # Where the person hides everything, fall back to a plain blur of the photo.
    plain = cv2.GaussianBlur(small_rgb, (0, 0), sigma)
    mix = np.clip(norm * 20, 0, 1)[..., None]
    background = blurred / np.maximum(norm, 1e-4)[..., None] * mix + plain * (1 - mix)
    small = np.clip(background + 0.5, 0, 255).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class Face:
    """A detected face in photo pixels: its box and eye centres."""

    box: tuple[float, float, float, float]  # left, top, right, bottom
    right_eye: tuple[float, float]
    left_eye: tuple[float, float]
    score: float


# Hair in this many rows from the photo's top edge runs off it: the crown is not in the photo.
CUT_OFF_ROWS = 1


def id_photo_box(face: Face, alpha: np.ndarray, preset: IdPreset) -> tuple[int, int, int, int]:
    """The region of the photo that becomes the ID photo, by the preset's head rules.

    The chin is the bottom of the face box; the crown is the top of the person's matte above
    the face (so hair counts, as the rules want), or an estimate from the face box where the
    matte gives none. The head is scaled to ``head_ratio`` of the height with ``top_ratio``
    free above it, and centred between the eyes horizontally.

    Hair that runs off the photo's top edge has no crown in the photo: the head is then at
    least as tall as the face box says, and the frame starts at the photo's top edge (zoomed
    in as far as needed to stay inside the photo), so the hair runs off the ID photo's edge
    too instead of ending in a flat line under a strip of background colour.
    """
    left, top, right, bottom = face.box
    face_height = bottom - top
    chin = bottom
    columns = slice(max(0, int(left)), min(alpha.shape[1], int(right) + 1))
    rows_above = alpha[: max(1, int(top)), columns] >= 128
    hair_rows = np.flatnonzero(rows_above.any(axis=1))
    estimate = top - 0.45 * face_height
    crown = float(hair_rows[0]) if hair_rows.size else estimate
    # what reaches the top edge is hair only if the head can reach it (not a raised hand)
    cut_off = hair_rows.size > 0 and hair_rows[0] <= CUT_OFF_ROWS and top - 0.7 * face_height <= 0
    if cut_off:
        crown = min(crown, estimate)
    crown = max(crown, top - 1.2 * face_height)  # a raised hand or hat must not stretch the head
    head = max(1.0, chin - crown)
    out_w, out_h = preset.size
    scale = preset.head_ratio * out_h / head
    if cut_off:
        scale = max(scale, out_h / alpha.shape[0])  # the frame's height fits in the photo
    box_w, box_h = out_w / scale, out_h / scale
    center_x = (face.right_eye[0] + face.left_eye[0]) / 2
    box_top = crown - preset.top_ratio * out_h / scale
    if cut_off:
        box_top = max(0.0, min(box_top, alpha.shape[0] - box_h))
    box_left = center_x - box_w / 2
    return (
        round(box_left),
        round(box_top),
        round(box_left + box_w),
        round(box_top + box_h),
    )


def crop_resize(cutout: Cutout, box: tuple[int, int, int, int], size: tuple[int, int]) -> Cutout:
    """``resize(crop(cutout, box), size)`` without building the (maybe huge) padded crop:
    only the part of the photo inside ``box`` is resized, then placed on a transparent canvas."""
    left, top, right, bottom = box
    width, height = cutout.size
    scale_x, scale_y = size[0] / (right - left), size[1] / (bottom - top)
    inner = (max(left, 0), max(top, 0), min(right, width), min(bottom, height))
    colors = np.zeros((size[1], size[0], 3), np.uint8)
    alpha = np.zeros((size[1], size[0]), np.uint8)
    dst_l, dst_t = round((inner[0] - left) * scale_x), round((inner[1] - top) * scale_y)
    dst_r = min(size[0], round((inner[2] - left) * scale_x))
    dst_b = min(size[1], round((inner[3] - top) * scale_y))
    if inner[2] > inner[0] and inner[3] > inner[1] and dst_r > dst_l and dst_b > dst_t:
        part = Cutout(
            cutout.colors[inner[1] : inner[3], inner[0] : inner[2]],
            cutout.alpha[inner[1] : inner[3], inner[0] : inner[2]],
        )
        scaled = resize(part, (dst_r - dst_l, dst_b - dst_t))
        colors[dst_t:dst_b, dst_l:dst_r] = scaled.colors
        alpha[dst_t:dst_b, dst_l:dst_r] = scaled.alpha
    return Cutout(colors, alpha)


def id_photo(cutout: Cutout, face: Face, preset: IdPreset, color: RGBA) -> Image.Image:
    box = id_photo_box(face, cutout.alpha, preset)
    framed = crop_resize(cutout, box, preset.size)
    return Image.fromarray(flatten(framed, np.asarray(color[:3], np.uint8)), "RGB")
