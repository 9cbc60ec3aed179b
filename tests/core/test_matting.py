"""Edge refinement, foreground colour estimation and the face detector, on cases whose truth
is known: synthetic composites made with the compositing equation, and a real portrait."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from humanseg import matting
from humanseg.compose import Face, id_photo_box
from humanseg.models.catalog import FACE_DETECTION
from humanseg.models.faces import FaceDetector, anchors
from humanseg.models.store import ModelStore
from humanseg.outputs import ID_PRESETS, parse_color, parse_margin
from humanseg.pipeline import Pipeline
from humanseg.schema import parse_output_spec
from humanseg.settings import PipelineSettings
from tests.support import images

HEIGHT, WIDTH = 400, 600


def synthetic_foreground() -> tuple[np.ndarray, np.ndarray]:
    """A smoothly varying skin/hair-like colour and an alpha with a solid body on the left,
    then a 120-px band of hair-like strands fading out to the right."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    colour = np.dstack(
        [
            0.8 + 0.1 * np.sin(xx / 40),
            0.55 + 0.1 * np.cos(yy / 50),
            0.35 + 0.05 * np.sin((xx + yy) / 70),
        ]
    )
    alpha = np.clip((300 - xx) / 120, 0, 1)
    strands = 0.5 + 0.5 * np.sin(yy / 3.0)
    alpha = np.where((xx > 180) & (xx < 300), alpha * strands, alpha)
    return colour.astype(np.float32), np.round(alpha * 255).astype(np.uint8)


def backgrounds() -> list[np.ndarray]:
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    sky = np.dstack([0.1 + 0 * xx, 0.3 + 0.4 * yy / HEIGHT, 0.9 + 0 * xx])
    noise = np.random.default_rng(0).normal(0, 0.03, (HEIGHT, WIDTH, 3))
    grass = np.clip(
        np.dstack([0.2 + 0.6 * xx / WIDTH, 0.9 - 0.5 * yy / HEIGHT, 0.2 + 0 * xx]) + noise, 0, 1
    )
    return [sky, grass]


@pytest.mark.parametrize("index", [0, 1])
def test_foreground_estimation_removes_background_bleed(index: int) -> None:
    foreground, alpha8 = synthetic_foreground()
    background = backgrounds()[index]
    a = alpha8.astype(np.float32)[..., None] / 255
    photo = np.round((a * foreground + (1 - a) * background) * 255).astype(np.uint8)
    soft = (alpha8 > 12) & (alpha8 < 243)
    plain_error = np.abs(photo / 255 - foreground)[soft].mean()
    estimated = matting.estimate_foreground(photo, alpha8)
    error = np.abs(estimated / 255 - foreground)[soft].mean()
    # "photo + alpha" keeps the background's colour in the strands; the estimate removes it
    assert error < 0.3 * plain_error, (error, plain_error)
    # fully opaque pixels keep the photo's colour exactly
    assert np.array_equal(estimated[alpha8 == 255], photo[alpha8 == 255])


def test_foreground_estimation_without_soft_pixels_is_the_photo() -> None:
    photo = np.asarray(images.astronaut())
    alpha = np.where(np.arange(512)[None, :] < 256, 255, 0).astype(np.uint8).repeat(512, axis=0)
    assert matting.estimate_foreground(photo, alpha) is photo


def test_refinement_follows_the_photo_edge_and_strands() -> None:
    """A coarse matte whose edge is a 24-px ramp 4 px off (as from a 256-px model) becomes
    sharp at the photo's edge, and 1-px strands of the person's colour beyond the edge get
    more alpha than the gaps between them: hair-level detail the model cannot see."""
    width, height, edge = 800, 400, 400
    person, backdrop = (200, 120, 90), (40, 90, 200)
    strands = (403, 407, 411)
    photo = np.zeros((height, width, 3), np.uint8)
    photo[:, :edge] = person
    photo[:, edge:] = backdrop
    truth = np.zeros(width)
    truth[:edge] = 255
    for x in strands:
        photo[:, x] = person
        truth[x] = 255
    xx = np.arange(width, dtype=np.float32)
    coarse_row = np.clip((edge + 4 - xx) / 24 + 0.5, 0, 1)
    coarse = np.round(np.tile(coarse_row, (height, 1)) * 255).astype(np.uint8)
    refined = matting.refine_matte(photo, coarse)
    row = refined[height // 2].astype(int)
    band = slice(380, 430)
    coarse_error = np.abs(coarse[height // 2].astype(int) - truth)[band].sum()
    refined_error = np.abs(row - truth)[band].sum()
    assert refined_error < 0.8 * coarse_error, (refined_error, coarse_error)
    for x in strands[:2]:
        assert row[x] > row[x - 1] and row[x] > row[x + 1], row[x - 1 : x + 2]
    # far from the edge nothing changes
    assert np.array_equal(refined[:, :300], coarse[:, :300])
    assert np.array_equal(refined[:, 500:], coarse[:, 500:])


def test_face_detector_anchors_match_the_model(tmp_path: object) -> None:
    settings = PipelineSettings()
    detector = FaceDetector(FACE_DETECTION, ModelStore(settings.model_dir), threads=1, pool_size=1)
    with detector._pool.session() as session:
        outputs = session.run(np.zeros((1, 128, 128, 3), np.float32))
    shapes = sorted(output.shape for output in outputs)
    assert shapes == [(1, 896, 1), (1, 896, 16)]
    assert anchors().shape == (896, 2)
    faces = detector.detect(images.astronaut())
    assert len(faces) == 1
    face = faces[0]
    left, top, right, bottom = face.box
    # her face in the 512×512 portrait: around x 180-270, y 80-175
    assert 160 < left < 200 and 250 < right < 290 and 60 < top < 110 and 160 < bottom < 195
    for x, y in (face.right_eye, face.left_eye):
        assert left < x < right and top < y < (top + bottom) / 2 + 10
    assert face.right_eye[0] < face.left_eye[0]  # the subject's right eye is on our left
    assert detector.detect(images.coffee()) == []
    # in a wide frame the letterboxed face is too small; square tiles find it, once, in place
    wide = Image.new("RGB", (1024, 512), (128, 128, 128))
    wide.paste(images.astronaut(), (300, 0))
    assert detector.detect(wide) == []
    moved = detector.detect_tiled(wide, (0, 0, 1024, 512))
    assert len(moved) == 1
    assert abs(moved[0].box[0] - 300 - left) < 12


@pytest.mark.parametrize(
    ("text", "rgba"),
    [
        ("#00aaff", (0, 170, 255, 255)),
        ("0af", (0, 170, 255, 255)),
        ("00aaff80", (0, 170, 255, 128)),
        ("rgba(1,2,3,0.5)", (1, 2, 3, 128)),
        ("rgb(1, 2, 3)", (1, 2, 3, 255)),
        ("green", (0, 128, 0, 255)),
    ],
)
def test_colours(text: str, rgba: tuple[int, int, int, int]) -> None:
    assert parse_color(text) == rgba


def test_margins() -> None:
    assert parse_margin("20px").pixels(100, 50) == (20, 20, 20, 20)
    assert parse_margin("10%").pixels(200, 100) == (10, 20, 10, 20)
    assert parse_margin("1px 2px 3px 4px").pixels(10, 10) == (1, 2, 3, 4)
    assert parse_margin("5 10%").pixels(100, 100) == (5, 10, 5, 10)


@pytest.mark.parametrize("preset", ["1inch", "2inch", "passport", "us"])
def test_id_photo_head_size_and_position_follow_the_preset(preset: str) -> None:
    """Measured on the result: crown (top of the hair) to chin, and the eyes' centre."""
    pipeline = Pipeline(PipelineSettings())
    spec = parse_output_spec("id_photo", id_preset=preset, bg_color="#ffffff")
    output = pipeline.process(images.encode(images.astronaut(), "PNG"), spec)
    photo = Image.open(io.BytesIO(output.data)).convert("RGB")
    rgb = np.asarray(photo).astype(int)
    crown = np.flatnonzero((rgb.min(axis=2) < 225).any(axis=1))[0]
    (face,) = pipeline.face_detector().detect(photo)
    height = photo.height
    rule = ID_PRESETS[preset]
    assert abs((face.box[3] - crown) / height - rule.head_ratio) < 0.03
    eyes_x = (face.right_eye[0] + face.left_eye[0]) / 2
    assert abs(eyes_x / photo.width - 0.5) < 0.03
    if preset == "us":  # eyes 1⅛ to 1⅜ in from the bottom of a 2 in photo
        eyes_y = (face.right_eye[1] + face.left_eye[1]) / 2
        assert 0.56 <= (height - eyes_y) / height <= 0.69


def test_id_photo_box_starts_at_the_photo_edge_when_the_hair_runs_off_it() -> None:
    face = Face((40.0, 20.0, 80.0, 70.0), (52.0, 40.0), (68.0, 40.0), 0.9)
    alpha = np.zeros((200, 120), np.uint8)
    alpha[10:, 30:90] = 255  # hair 10 rows under the top edge: the crown is in the photo
    rule = ID_PRESETS["passport"]
    _, top, _, bottom = id_photo_box(face, alpha, rule)
    assert abs((70 - 10) / (bottom - top) - rule.head_ratio) < 0.01
    assert abs((10 - top) / (bottom - top) - rule.top_ratio) < 0.01
    alpha[:10] = alpha[10]  # the hair runs off the top edge
    _, top, _, bottom = id_photo_box(face, alpha, rule)
    assert top == 0 and bottom <= alpha.shape[0]
    # the head is at least as tall as the face box says, so not blown up to the rule's size
    assert (70 - 0) / (bottom - top) <= rule.head_ratio + 0.01
    # a raised hand reaching the top edge, the face far below: the rule applies as before
    low = Face((40.0, 120.0, 80.0, 170.0), (52.0, 140.0), (68.0, 140.0), 0.9)
    alpha[:] = 0
    alpha[:, 50:70] = 255
    _, top, _, bottom = id_photo_box(low, alpha, rule)
    crown = 120 - 1.2 * 50
    assert abs((crown - top) / (bottom - top) - rule.top_ratio) < 0.01


def test_id_photo_of_hair_cut_by_the_frame_has_no_strip_of_background_above_it() -> None:
    pipeline = Pipeline(PipelineSettings())
    astronaut = images.astronaut()
    cut = astronaut.crop((0, 80, astronaut.width, astronaut.height))  # the crown cut off
    spec = parse_output_spec("id_photo", id_preset="passport", bg_color="#ffffff")
    output = pipeline.process(images.encode(cut, "PNG"), spec)
    rgb = np.asarray(Image.open(io.BytesIO(output.data)).convert("RGB")).astype(int)
    person = rgb.min(axis=2) < 225
    (face,) = pipeline.face_detector().detect(Image.fromarray(rgb.astype(np.uint8)))
    head = slice(int(face.box[0]), int(face.box[2]))
    assert person[0, head].mean() > 0.9  # the hair runs off the top edge, as in the photo


def test_upsample_probability_returns_a_copy_callers_may_write_to() -> None:
    ramp = np.linspace(0.0, 1.0, 16, dtype=np.float32).reshape(4, 4)
    assert matting.upsample_probability(ramp, (4, 4)) is not ramp


def test_upsample_matte_rounds_like_numpy() -> None:
    probability = np.random.default_rng(0).random((30, 40), dtype=np.float32)
    expected = np.round(probability * 255).astype(np.uint8)
    assert np.array_equal(matting.upsample_matte(probability, (40, 30)), expected)


def test_a_steepened_matte_keeps_every_pixel_on_its_side_of_one_half() -> None:
    levels = np.arange(256, dtype=np.uint8)[None, :]
    for factor in (1.5, 2.0, 4.0, 100.0):
        steep = matting.steepened(levels, factor)
        assert np.array_equal(steep >= 128, levels >= 128)
        assert np.all(np.diff(steep.astype(int)) >= 0)  # still a ramp, only narrower
    twice = matting.steepened(levels, 2.0)[0]
    assert (twice[64], twice[192], twice[0], twice[255]) == (0, 255, 0, 255)
    assert np.count_nonzero((twice > 0) & (twice < 255)) == 127  # half the 254 soft levels


def test_an_upsampled_pipeline_matte_has_a_narrower_ramp_when_steepened() -> None:
    ramp = np.tile(np.linspace(0.0, 1.0, 16, dtype=np.float32), (4, 1))
    soft = matting.upsample_matte(ramp, (160, 40))
    steep = matting.upsample_matte(ramp, (160, 40), steepen=2.0)
    assert np.array_equal(soft >= 128, steep >= 128)
    in_between = np.count_nonzero((soft[0] > 0) & (soft[0] < 255))
    assert np.count_nonzero((steep[0] > 0) & (steep[0] < 255)) < 0.6 * in_between
