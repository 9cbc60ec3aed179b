"""Pipelines (`auto`, `balanced`, `quality`) and the per-request `model` field, through the real
server."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import replace

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from humanseg.evaluation import is_empty
from humanseg.models.catalog import CATALOG
from humanseg.models.edges import band_of, feature_count
from humanseg.models.fusion import fuse, fuse_both, sharpen
from humanseg.models.geometry import (
    below_face,
    bounds,
    crop_padded,
    person_bounds,
    size_of,
    square_around,
    square_tiles,
    turned,
    widened,
)
from humanseg.models.matter import PresetMatter
from humanseg.models.presets import AUTO, BALANCED, QUALITY, Member
from humanseg.models.runtimes import LiteRTSession
from humanseg.models.segmenter import Segmenter, Sighting
from humanseg.pipeline import Pipeline
from humanseg.schema import parse_output_spec
from humanseg.settings import PipelineSettings
from humanseg.transforms import canvas_box, placed, transformed
from tests.support import images
from tests.support.images import assert_person_matte, result_image


def matte(client: httpx.Client, data: bytes, **fields: str) -> np.ndarray:
    body = {"img": base64.b64encode(data).decode(), **fields}
    image = result_image(client.post("/human_image_segmentation", json=body))
    assert image.mode == "L"
    return np.asarray(image)


def test_person_box_and_square() -> None:
    probability = np.zeros((100, 200), dtype=np.float32)
    probability[20:40, 50:90] = 0.9

    def person_box(margin: float, threshold: float) -> tuple[int, int, int, int] | None:
        return widened(person_bounds(probability, threshold), margin, size_of(probability))

    assert person_box(0.0, 0.5) == (50, 20, 90, 40)
    assert person_box(0.5, 0.5) == (30, 10, 110, 50)
    assert person_box(0.0, 0.95) is None
    assert person_box(10.0, 0.5) == (0, 0, 200, 100)  # clipped to the photo
    assert square_around((50, 20, 90, 40)) == (50, 10, 90, 50)


def test_sharpen_moves_the_threshold_to_half() -> None:
    p = np.array([0.0, 0.3, 0.4, 0.5, 0.9], dtype=np.float32)
    assert np.allclose(sharpen(p, 4.0, 0.4), [0.0, 0.1, 0.5, 0.9, 1.0])
    assert np.array_equal(sharpen(p, 1.0), p)


def test_default_is_auto_and_keeps_the_person(client: httpx.Client) -> None:
    assert client.get("/readyz").json()["default_model"] == "auto"
    default = matte(client, images.astronaut_jpeg())
    assert_person_matte(default)
    assert np.array_equal(default, matte(client, images.astronaut_jpeg(), model="auto"))


def test_model_field_picks_the_model(client: httpx.Client) -> None:
    photo = images.astronaut_jpeg()
    selfie = matte(client, photo, model="selfie")
    auto = matte(client, photo, model="auto")
    assert_person_matte(selfie)
    assert selfie.shape == auto.shape == (512, 512)
    assert not np.array_equal(selfie, auto)
    assert np.array_equal(selfie, matte(client, photo, model="selfie"))  # deterministic
    ready = client.get("/readyz").json()
    assert ready["models"]["selfie"]["provider"] == "litert-cpu"
    assert ready["models"]["pose-detection"]["runtime"] == "litert"


@pytest.mark.parametrize("name", ["no-such-model", "pose-detection"])
def test_unknown_model_is_400(client: httpx.Client, name: str) -> None:
    body = {"img": base64.b64encode(images.astronaut_jpeg()).decode(), "model": name}
    response = client.post("/human_image_segmentation", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_model"
    assert "auto" in error["message"] and "selfie" in error["message"]


@pytest.mark.parametrize("photo", ["coffee", "cat"])
def test_person_free_photo_gets_an_empty_matte(client: httpx.Client, photo: str) -> None:
    data = images.encode(getattr(images, photo)(), "JPEG", quality=90)
    default = matte(client, data)
    assert default.mean() / 255 < 0.01 and (default >= 128).mean() < 0.01
    # The raw selfie model outlines the cup or the cat anyway: the detector makes the difference.
    raw = matte(client, data, model="selfie")
    assert (raw >= 128).mean() > 0.1


def test_onnx_model_through_the_server(client: httpx.Client) -> None:
    pytest.importorskip("onnxruntime")
    modnet = matte(client, images.astronaut_jpeg(), model="modnet")
    assert_person_matte(modnet)
    provider = client.get("/readyz").json()["models"]["modnet"]["provider"]
    assert provider in (
        "CPUExecutionProvider",
        "CUDAExecutionProvider",
        "openvino-cpu-bf16",
        "openvino-cpu-f32",
    )


def test_a_member_may_give_a_model_with_a_dynamic_input_a_smaller_one() -> None:
    modnet = Member("modnet", short_side=320)
    assert modnet.input_size((672, 512)) == (420, 320)
    assert Member("modnet").input_size((672, 512)) == (672, 512)
    with pytest.raises(ValueError, match="fixed input size"):
        Member("selfie", short_side=320)  # a LiteRT graph of one size
    # auto's members and views (their weights its own), MODNet fourth
    views = [(m.model, m.view, m.margin, m.flip) for m in BALANCED.members[:3]]
    assert views == [(m.model, m.view, m.margin, m.flip) for m in AUTO.members]
    assert BALANCED.edge is not None
    # balanced weighs its members by their agreement, so k-fold selection chooses how much;
    # auto leaves it off
    assert BALANCED.params.agreement > 0 and "agreement" not in BALANCED.fixed
    assert AUTO.params.agreement == 0 and "agreement" in AUTO.fixed
    assert BALANCED.params.edge is not None and len(BALANCED.edge.others) == 20


def test_a_person_far_off_is_fused_on_a_larger_map() -> None:
    from humanseg.models.matter import PERSON_ON_MAP, _map_for_person

    # a person filling the photo: the map stays MAP_SIDE (512) long
    assert _map_for_person((512, 384), (100, 20, 400, 380), (1024, 768)) == (512, 384)
    # a person 120 px high on it: a map grown until they are PERSON_ON_MAP high, ...
    grown = _map_for_person((512, 384), (200, 200, 260, 320), (2048, 1536))
    assert grown[0] / grown[1] == pytest.approx(512 / 384, rel=0.01)
    assert 120 * grown[0] / 512 == pytest.approx(PERSON_ON_MAP, rel=0.01)
    # ... but never past the photo's working pixels, nor for a map that already has them all
    assert _map_for_person((512, 384), (250, 250, 260, 260), (1024, 768)) == (1024, 768)
    assert _map_for_person((400, 300), (10, 10, 20, 20), (400, 300)) == (400, 300)
    # nor by less than MIN_GROWTH (a 640 px photo's map can only grow by a quarter)
    assert _map_for_person((512, 384), (10, 10, 20, 20), (640, 480)) == (512, 384)
    assert _map_for_person((512, 384), None, (1024, 768)) == (512, 384)


def test_a_member_may_skip_a_person_too_small_for_its_model() -> None:
    modnet = Member("modnet", short_side=320, min_person=200)
    # a 1000 × 500 view reaches MODNet 640 × 320: a person 100 px high there is 64 px high
    assert modnet.seen_height(100, (1000, 500), CATALOG["modnet"]) == pytest.approx(64.0)
    # a fixed input stretches the view to it: 256 px high for selfie, whatever the view
    assert Member("selfie").seen_height(50, (400, 100), CATALOG["selfie"]) == pytest.approx(128)
    with pytest.raises(ValueError, match="min_person"):
        Member("modnet", min_person=0)


def test_balanced_is_auto_with_modnet_at_320_px(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    photo = images.astronaut_jpeg()
    response = client.post(
        "/human_image_segmentation",
        json={"img": base64.b64encode(photo).decode(), "model": "balanced"},
    )
    balanced = np.asarray(result_image(response))
    assert_person_matte(balanced)
    assert 0.0 <= float(response.headers["X-Humanseg-Confidence"]) <= 1.0
    auto = matte(client, photo, model="auto")
    assert not np.array_equal(balanced, auto)
    assert ((balanced >= 128) == (auto >= 128)).mean() > 0.95  # the same person, one more view
    # MODNet sees the photo with its short side at 320 px, not its own 512
    pipeline = Pipeline(PipelineSettings())
    matter = pipeline.resolver.get("balanced")
    assert isinstance(matter, PresetMatter)
    shapes: list[tuple[int, ...]] = []
    original = Segmenter.to_tensor

    def to_tensor(self: Segmenter, rgb: object, short_side: int | None = None) -> np.ndarray:
        tensor = original(self, rgb, short_side)  # type: ignore[arg-type]
        if self.spec.name == "modnet":
            shapes.append(tensor.shape)
        return tensor

    monkeypatch.setattr(Segmenter, "to_tensor", to_tensor)
    matter.matte(Image.open(io.BytesIO(photo)).convert("RGB"), (512, 512))
    assert shapes == [(1, 3, 320, 320)]
    # the same person in a photo three times as wide and as high: under 100 px high in
    # MODNet's input, under its 200, so it is not run and the other members decide, on a
    # map at least MIN_GROWTH times MAP_SIDE (the person far off)
    shapes.clear()
    astronaut = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"))
    wide = np.full((1536, 1536, 3), 127, dtype=np.uint8)
    wide[1024:, 512:1024] = astronaut
    evidence = matter.evidence(wide)
    assert shapes == [] and evidence.presence > 0.0
    assert evidence.members[3] is None and evidence.members[0] is not None
    assert max(evidence.size) >= 1.5 * 512
    assert_person_matte(np.asarray(matter.matte(wide, (1536, 1536)).alpha)[1024:, 512:1024])
    # the JPEG draft the photo is decoded at: MODNet's typical input at 320 px (420 × 320),
    # doubled for the close-ups, not its own at 512 px doubled
    assert matter.input_size == (840, 640)


def test_a_member_too_small_still_vetoes_while_the_gate_doubts() -> None:
    """The moon turned clockwise: the pose detector half believes in a person (the gate
    doubts), whose box would be under 200 px high in MODNet's input. MODNet runs all the
    same, sees nobody, and its veto leaves the image empty."""
    pytest.importorskip("onnxruntime")
    from skimage import data

    moon = transformed(np.stack([data.moon()] * 3, axis=-1), "rotated-270")
    matter = Pipeline(PipelineSettings()).resolver.get("balanced")
    assert isinstance(matter, PresetMatter)
    evidence = matter.evidence(moon)
    assert 0.0 < evidence.presence < 1.0
    modnet = evidence.members[3]
    assert modnet is not None and modnet.peak is not None and modnet.peak < 0.1
    assert is_empty(np.asarray(matter.matte(moon, (512, 512)).alpha))


def test_quality_pipeline_lists_each_model_once() -> None:
    assert QUALITY.models.count("selfie") == 1  # on the photo and on the box: one session
    assert set(QUALITY.models) == {
        "selfie",
        "modnet",
        "u2net",
        "pose-detection",
        "pose-segmentation",
    }
    assert "face-detection" in QUALITY.needs and QUALITY.opt_in is False


def test_quality_is_balanced_with_u2net_on_the_box() -> None:
    """``quality``: ``balanced``'s members (their views, inputs and limits; the weights are the
    selection's) with U²-Net on the person's box and its mirror image as a fifth, weighed by
    their agreement, and a learned edge step for its five members."""

    def seen(m: Member) -> tuple[object, ...]:
        return (m.model, m.view, m.margin, m.flip, m.short_side, m.min_person)

    assert [seen(m) for m in QUALITY.members[:-1]] == [seen(m) for m in BALANCED.members]
    u2net = QUALITY.members[-1]
    assert (u2net.model, u2net.view, u2net.flip, u2net.weight > 0) == ("u2net", "box", True, True)
    assert QUALITY.agreement > 0
    assert QUALITY.edge is not None
    assert len(QUALITY.edge.others) == len(QUALITY.edge.standing) == feature_count(5) + 1
    assert any(QUALITY.edge.others) and any(QUALITY.edge.standing)  # fitted, not a placeholder


def test_quality_pipeline_finds_a_small_person(client: httpx.Client) -> None:
    pytest.importorskip("onnxruntime")
    alpha = matte(client, _small_astronaut(), model="quality")
    assert_person_matte(alpha[400:656, 600:856])
    outside = np.ones(alpha.shape, dtype=bool)
    outside[400:656, 600:856] = False
    assert (alpha[outside] >= 128).mean() < 0.03


def test_rvm_takes_its_recurrent_inputs_and_mattes_a_person() -> None:
    """Robust Video Matting takes an empty recurrent state and its internal ratio besides the
    photo; on both ONNX engines the matte is the person's."""
    pytest.importorskip("onnxruntime")
    pipeline = Pipeline(PipelineSettings())
    rvm = pipeline.registry.get("rvm")
    probability = rvm.predict(images.astronaut())
    assert probability.shape == (480, 480)  # the input's size: short side 480
    assert_person_matte(np.asarray(probability * 255, dtype=np.uint8))


def _small_astronaut() -> bytes:
    """The astronaut at 256 px, its border pixels stretched out to 1024 × 768 (no pasted edge)."""
    small = np.asarray(images.astronaut().resize((256, 256)))
    canvas = Image.fromarray(np.pad(small, ((400, 112), (600, 168), (0, 0)), mode="edge"))
    return images.encode(canvas, "JPEG", quality=92)


def test_auto_zooms_only_when_the_close_up_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person filling the frame would give the zoomed pass the same input again: skipped."""
    pipeline = Pipeline(PipelineSettings())
    pipeline.load("auto")  # loading warms each model up with a run of its own
    runs: list[tuple[int, ...]] = []
    original = LiteRTSession.run

    def counted(
        session: LiteRTSession, tensor: np.ndarray, extra: object = None
    ) -> list[np.ndarray]:
        runs.append(tensor.shape)
        return original(session, tensor)

    monkeypatch.setattr(LiteRTSession, "run", counted)
    portrait = pipeline.process(images.astronaut_jpeg())
    # the guide and its mirror image, no close-up; the whole-body model on the square
    assert runs.count((1, 256, 256, 3)) == 3
    assert runs.count((1, 224, 224, 3)) == 1  # the person detector, sure: no face detector
    assert runs.count((1, 128, 128, 3)) == 0
    runs.clear()
    pipeline.process(_small_astronaut())
    assert runs.count((1, 256, 256, 3)) == 5  # the close-up and its mirror image as well
    assert_person_matte(np.asarray(Image.open(io.BytesIO(portrait.data))))


def test_crop_padded_fills_outside_the_photo_with_black() -> None:
    rgb = np.full((10, 20, 3), 200, dtype=np.uint8)
    inside = crop_padded(rgb, (2, 3, 12, 8))
    assert inside.shape == (5, 10, 3) and np.all(inside == 200)
    square = crop_padded(rgb, (-5, -5, 15, 15))  # reaches past the top and left
    assert square.shape == (20, 20, 3)
    assert np.all(square[:5] == 0) and np.all(square[:, :5] == 0)
    assert np.all(square[5:15, 5:20] == 200)
    assert np.all(crop_padded(rgb, (30, 30, 40, 40)) == 0)  # wholly outside


def test_a_far_smaller_person_apart_is_dropped_unless_every_part_is_kept() -> None:
    photo = images.two_people_apart()
    for keep, small_kept in ((False, False), (True, True)):
        pipeline = Pipeline(PipelineSettings(keep_every_part=keep))
        alpha = np.asarray(Image.open(io.BytesIO(pipeline.process(photo).data)))
        assert np.count_nonzero(alpha[24:536, 24:536] >= 128) > 0.2 * 512 * 512
        small = np.count_nonzero(alpha[images.SMALL_PERSON] >= 128)
        assert bool(small > 0.2 * 300 * 300) is small_kept, (keep, small)


def test_every_part_kept_or_not_per_request_over_the_server_setting(client: httpx.Client) -> None:
    photo = images.two_people_apart()
    for setting, asked, small_kept in ((False, True, True), (True, False, False)):
        pipeline = Pipeline(PipelineSettings(keep_every_part=setting))
        spec = parse_output_spec(None, keep_every_part=asked)
        alpha = np.asarray(Image.open(io.BytesIO(pipeline.process(photo, spec).data)))
        small = np.count_nonzero(alpha[images.SMALL_PERSON] >= 128)
        assert bool(small > 0.2 * 300 * 300) is small_kept, (setting, asked, small)
    # over HTTP, on a server with the default setting (drop the far smaller part)
    body = {"img": base64.b64encode(photo).decode(), "keep_every_part": True}
    alpha = np.asarray(result_image(client.post("/human_image_segmentation", json=body)))
    assert np.count_nonzero(alpha[images.SMALL_PERSON] >= 128) > 0.2 * 300 * 300
    assert np.count_nonzero(matte(client, photo)[images.SMALL_PERSON] >= 128) == 0


def test_the_pose_flag_lets_a_person_through_where_the_detectors_doubt() -> None:
    """The pose and face detectors lean on colour and sharp detail: on a blurred black-and-white
    portrait both doubt (the pose score about 0.45, the face score under its range), and the
    matte would be scaled down to nothing at 0.5; the landmark model's pose flag is sure."""
    portrait = images.astronaut().convert("L").filter(ImageFilter.GaussianBlur(4))
    rgb = np.asarray(portrait.convert("RGB"))
    size = (rgb.shape[1], rgb.shape[0])
    pipeline = Pipeline(PipelineSettings())
    flagged = pipeline.resolver.get("auto").matte(rgb, size)
    assert_person_matte(flagged.alpha)
    blind_gate = replace(AUTO, gate=replace(AUTO.gate, landmarks=None))
    detectors_only = PresetMatter(blind_gate, pipeline.registry, pipeline.face_detector)
    doubted = detectors_only.matte(rgb, size)
    assert doubted.alpha.max() < 0.7 * 255


def test_the_region_below_a_face_reaches_down_about_a_body() -> None:
    assert below_face((100.0, 50.0, 120.0, 70.0), (400, 400)) == (60, 40, 160, 210)
    assert below_face((100.0, 50.0, 120.0, 70.0), (130, 100)) == (60, 40, 130, 100)  # clipped
    assert below_face((500.0, 50.0, 520.0, 70.0), (400, 400)) is None  # off the photo


def test_square_tiles_cover_the_photo_along_its_long_side() -> None:
    assert square_tiles((600, 200)) == [(x, 0, x + 200, 200) for x in (0, 100, 200, 300, 400)]
    assert square_tiles((200, 450)) == [(0, y, 200, y + 200) for y in (0, 100, 200, 250)]
    assert square_tiles((300, 300)) == [(0, 0, 300, 300)]


def test_square_tiles_of_a_smaller_side_cover_the_photo_both_ways() -> None:
    tiles = square_tiles((600, 400), 200)
    columns, rows = (0, 100, 200, 300, 400), (0, 100, 200)
    assert tiles == [(x, y, x + 200, y + 200) for y in rows for x in columns]
    covered = np.zeros((400, 600), dtype=bool)
    for left, top, right, bottom in square_tiles((650, 410), 200):
        assert right - left == bottom - top == 200 and right <= 650 and bottom <= 410
        covered[top:bottom, left:right] = True
    assert covered.all()
    assert square_tiles((300, 100), 500) == square_tiles((300, 100))  # never past the photo


def test_a_small_person_the_guide_misses_is_found_in_its_tiles() -> None:
    """The astronaut a quarter as wide and as high as the photo: the guide, seeing the whole
    photo at 256 px, sees nobody; in square tiles half as large as the photo it sees her, the
    pose detector is sure of her close up, and she is matted in place. A cup of coffee or a
    cat as small stays empty."""
    portrait = np.asarray(images.astronaut().resize((150, 150)))
    rgb = placed(portrait, 4.0, fill=True)
    left, top, width, height = canvas_box((150, 150), 4.0)
    assert rgb.shape == (height, width, 3) == (600, 600, 3)
    pipeline = Pipeline(PipelineSettings())
    auto = pipeline.resolver.get("auto")
    assert isinstance(auto, PresetMatter)
    lead, _ = auto.guide.predict_at(rgb, (600, 600), flip=True)
    assert lead.max() < AUTO.threshold  # the guide alone sees nobody
    person = auto.matte(rgb, (600, 600)).alpha >= 128
    assert np.count_nonzero(person[top : top + 150, left : left + 150]) > 0.35 * 150 * 150
    near = np.zeros_like(person)
    near[top - 10 : top + 160, left - 10 : left + 160] = True
    assert np.count_nonzero(person & ~near) == 0  # nothing beside her
    untiled = replace(AUTO, gate=replace(AUTO.gate, guide_tiles=False))
    blind = PresetMatter(untiled, pipeline.registry, pipeline.face_detector)
    assert is_empty(blind.matte(rgb, (600, 600)).alpha)
    for photo in (images.coffee(), images.cat()):
        small = placed(np.asarray(photo.convert("RGB")), 3.0, fill=True)
        assert is_empty(auto.matte(small, (small.shape[1], small.shape[0])).alpha)


def test_a_small_person_the_guide_sees_a_speck_of_is_matted_whole() -> None:
    """The astronaut, 150 px high in a photo 3.6 times as large: squeezed into the guide's
    square, she shows as a speck (a part of her over the threshold). The guide's tiles show
    all of her, and her matte matches the pipeline's matte of the portrait alone; without
    the tiles for a speck, the matte keeps to the speck's surroundings."""
    pipeline = Pipeline(PipelineSettings())
    auto = pipeline.resolver.get("auto")
    assert isinstance(auto, PresetMatter)
    portrait = np.asarray(images.astronaut().resize((150, 150)))
    alone = auto.matte(portrait, (150, 150)).alpha >= 128
    rgb = placed(portrait, 3.6, fill=True)
    left, top, width, height = canvas_box((150, 150), 3.6)
    reference = np.zeros((height, width), dtype=bool)
    reference[top : top + 150, left : left + 150] = alone
    map_size = (512, 512)
    lead, _ = auto.guide.predict_at(rgb, map_size, flip=True)
    speck = person_bounds(lead, AUTO.threshold)
    assert speck is not None and auto.gate._a_speck(speck, map_size)

    def iou(matter: PresetMatter) -> float:
        person = matter.matte(rgb, (width, height)).alpha >= 128
        return np.count_nonzero(person & reference) / np.count_nonzero(person | reference)

    assert iou(auto) > 0.75
    untiled = replace(AUTO, gate=replace(AUTO.gate, guide_tiles_below=0.0))
    assert iou(PresetMatter(untiled, pipeline.registry, pipeline.face_detector)) < 0.75


def test_a_person_the_guide_misses_in_a_wide_photo_is_found_below_their_face() -> None:
    """A black-and-white portrait in a photo three times as wide as high: the guide, seeing
    the whole photo squeezed into its square input, sees nobody; the face detector, looking
    at square tiles, finds the face, and the guide sees the person close up."""
    portrait = images.astronaut().convert("L").convert("RGB").resize((200, 200))
    wide = Image.new("RGB", (600, 200), (128, 128, 128))
    wide.paste(portrait, (200, 0))
    rgb = np.asarray(wide)
    pipeline = Pipeline(PipelineSettings())
    auto = pipeline.resolver.get("auto")
    assert isinstance(auto, PresetMatter)
    lead, _ = auto.guide.predict_at(rgb, (600, 200), flip=True)
    assert lead.max() < AUTO.threshold  # the guide alone sees nobody
    found = auto.matte(rgb, (600, 200))
    person = found.alpha >= 128
    assert np.count_nonzero(person[:, 200:400]) > 0.4 * 200 * 200
    assert np.count_nonzero(person[:, :180]) + np.count_nonzero(person[:, 420:]) == 0
    untiled = replace(AUTO, gate=replace(AUTO.gate, face_tiles=False, guide_tiles=False))
    blind = PresetMatter(untiled, pipeline.registry, pipeline.face_detector)
    assert is_empty(blind.matte(rgb, (600, 200)).alpha)
    # darkened, the face is found only in the tiles stretched, as the gate's other looks are
    dark = np.asarray(ImageEnhance.Brightness(wide).enhance(0.35))
    assert auto.is_dim(dark)
    person = auto.matte(dark, (600, 200)).alpha >= 128
    assert np.count_nonzero(person[:, 200:400]) > 0.4 * 200 * 200
    assert np.count_nonzero(person[:, :180]) + np.count_nonzero(person[:, 420:]) == 0


def test_a_dim_photo_the_detectors_doubt_is_looked_at_again_stretched() -> None:
    """A blurred portrait at 8 % brightness: the detectors doubt it as it is and are sure of it
    with its levels stretched; a cup of coffee as dark stays empty."""
    pipeline = Pipeline(PipelineSettings())
    as_it_is = replace(AUTO, stretch_from=math.inf)
    unstretched = PresetMatter(as_it_is, pipeline.registry, pipeline.face_detector)
    dark = images.astronaut().filter(ImageFilter.GaussianBlur(2))
    rgb = np.asarray(ImageEnhance.Brightness(dark).enhance(0.08))
    size = (rgb.shape[1], rgb.shape[0])
    assert_person_matte(pipeline.resolver.get("auto").matte(rgb, size).alpha)
    # the doubting gate's factor scales the map down (0.7 reads 0.9 once steepened)
    assert unstretched.matte(rgb, size).alpha.max() < 0.95 * 255
    cup = np.asarray(ImageEnhance.Brightness(images.coffee()).enhance(0.2))
    assert is_empty(pipeline.resolver.get("auto").matte(cup, (cup.shape[1], cup.shape[0])).alpha)


def test_a_turned_box_is_the_box_of_the_turned_map() -> None:
    mask = np.zeros((30, 50), dtype=bool)
    mask[3:10, 20:45] = True
    box = bounds(mask)
    assert box is not None
    for turns in range(5):
        assert turned(box, size_of(mask), turns) == bounds(np.rot90(mask, turns))


def test_a_sighting_asks_for_a_turn_only_when_the_person_is_turned_far_enough() -> None:
    assert Sighting(0.9, 5.0).quarter_turns(60.0) == 0
    assert Sighting(0.9, -50.0).quarter_turns(60.0) == 0
    assert Sighting(0.9, 88.0).quarter_turns(60.0) == 3  # head to the left: turn clockwise
    assert Sighting(0.9, -95.0).quarter_turns(60.0) == 1
    assert Sighting(0.9, -179.0).quarter_turns(60.0) == 2
    assert Sighting(0.9, None).quarter_turns(60.0) == 0


def test_the_pose_detector_says_which_way_up_the_person_is() -> None:
    pipeline = Pipeline(PipelineSettings())
    detector = pipeline.registry.get("pose-detection")
    rgb = np.asarray(images.astronaut().convert("RGB"))
    for turns, tilt in ((0, 0.0), (1, 90.0), (2, 180.0), (3, -90.0)):
        sighting = detector.sighting(np.ascontiguousarray(np.rot90(rgb, turns)))
        assert sighting.score > 0.5 and sighting.tilt is not None
        assert abs((sighting.tilt - tilt + 180.0) % 360.0 - 180.0) < 20.0, (turns, sighting)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_person_lying_down_or_upside_down_is_matted_upright(turns: int) -> None:
    """The person models were trained on upright people: a portrait upside down, or on its
    side, loses much of the person as it is. Seen upright, it is matted as the upright
    portrait is, and the matte is turned back."""
    pipeline = Pipeline(PipelineSettings())
    matter = pipeline.resolver.get("auto")
    assert isinstance(matter, PresetMatter)
    rgb = np.asarray(images.astronaut().convert("RGB"))
    upright = matter.matte(rgb, size_of(rgb)).alpha >= 128
    photo = np.ascontiguousarray(np.rot90(rgb, turns))
    evidence = matter.evidence(photo)
    assert evidence.turns == -turns % 4
    # the colour the edge step reads is the photo's, in its own frame
    assert evidence.colour is not None
    own = cv2.resize(photo, evidence.size, interpolation=cv2.INTER_AREA)
    assert np.abs(evidence.colour.astype(float) - own).mean() < 3.0
    alpha = matter.matte(photo, size_of(photo)).alpha
    assert alpha.shape == photo.shape[:2]

    def iou(alpha: np.ndarray) -> float:
        mask = np.rot90(alpha, -turns) >= 128
        return np.count_nonzero(mask & upright) / np.count_nonzero(mask | upright)

    assert iou(alpha) > 0.98
    never = replace(AUTO, gate=replace(AUTO.gate, turn_from=None))
    as_it_is = PresetMatter(never, pipeline.registry, pipeline.face_detector)
    if turns != 1:  # head to the left, selfie still does well (0.97)
        assert iou(as_it_is.matte(photo, size_of(photo)).alpha) < 0.9


def test_autos_edge_step_decides_the_outline_again_and_nothing_else() -> None:
    """The learned edge step changes pixels near the outline of the fused matte only."""
    pipeline = Pipeline(PipelineSettings())
    matter = pipeline.resolver.get("auto")
    assert isinstance(matter, PresetMatter) and AUTO.edge is not None
    rgb = np.asarray(images.astronaut().convert("RGB"))
    evidence = matter.evidence(rgb)
    stepped, before = fuse_both(evidence, matter.params)
    assert np.array_equal(before, fuse(evidence, replace(matter.params, edge=None)))
    changed = np.abs(stepped - before) > 0.05
    assert changed.any()
    where, _ = band_of(before, AUTO.edge.band)
    near = np.zeros(before.size, dtype=bool)
    near[where] = True
    assert not changed.ravel()[~near].any()
    assert np.count_nonzero((stepped >= 0.5) != (before >= 0.5)) < 0.05 * np.count_nonzero(
        before >= 0.5
    )


def test_a_thin_strip_the_guide_sees_nobody_in_is_not_tiled_for_faces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = Pipeline(PipelineSettings())
    auto = pipeline.resolver.get("auto")
    assert isinstance(auto, PresetMatter) and auto.gate.faces is not None
    calls: list[object] = []
    detect = auto.gate.faces.detect
    monkeypatch.setattr(
        auto.gate.faces, "detect", lambda *a, **k: calls.append(a) or detect(*a, **k)
    )
    strip = np.full((40, 1000, 3), 128, dtype=np.uint8)
    assert is_empty(auto.matte(strip, (1000, 40)).alpha)
    assert calls == []
    noise = np.random.default_rng(0).integers(0, 256, (200, 600, 3), dtype=np.uint8)
    assert not auto.is_dim(noise)
    assert is_empty(auto.matte(noise, (600, 200)).alpha)
    assert len(calls) == len(square_tiles((600, 200)))
    grey = np.full((200, 600, 3), 128, dtype=np.uint8)  # flat: looked at again stretched
    assert is_empty(auto.matte(grey, (600, 200)).alpha)
    assert len(calls) == 3 * len(square_tiles((600, 200)))
