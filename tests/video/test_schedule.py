"""Which frames of a clip get the model: every Nth with the temporal step, a cut at once, and
the person gate kept for the clip. Real models; a wrapper only counts their calls."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from humanseg.imaging import Picture
from humanseg.models.geometry import size_of
from humanseg.models.matter import Matte, Matter, PresetMatter
from humanseg.outputs import OutputSpec
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings
from humanseg.video.clip_matter import ClipMatter
from humanseg.video.frames import FrameRenderer
from humanseg.video.temporal import TemporalParams
from tests.support import images
from tests.support.videos import person_frames

pytestmark = pytest.mark.slow  # real models on every frame


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(PipelineSettings(), concurrency=1)


class Counted:
    """A real matter whose calls are counted."""

    def __init__(self, matter: Matter) -> None:
        self.matter = matter
        self.name = matter.name
        self.calls = 0

    @property
    def input_size(self) -> tuple[int, int]:
        return self.matter.input_size

    def matte(self, rgb: Picture, size: tuple[int, int]) -> Matte:
        self.calls += 1
        return self.matter.matte(rgb, size)


def run(renderer: FrameRenderer, frames: list[np.ndarray]) -> list[np.ndarray]:
    return [renderer.frame_matte(frame) for frame in frames]


def test_the_model_runs_on_every_other_frame_and_the_others_follow(pipeline: Pipeline) -> None:
    frames = person_frames(12, (160, 120))
    counted = Counted(pipeline.resolver.get("selfie"))
    renderer = FrameRenderer(
        counted, OutputSpec(), refine=False, steady=TemporalParams(), model_every=2
    )
    mattes = run(renderer, frames)
    assert counted.calls == 6
    assert all(matte.shape == (120, 160) for matte in mattes)
    # a carried frame is a matte of the person, not an empty or stale one
    assert all(np.count_nonzero(matte >= 128) > 0.05 * matte.size for matte in mattes)


def test_without_the_temporal_step_every_frame_gets_the_model(pipeline: Pipeline) -> None:
    frames = person_frames(6, (160, 120))
    counted = Counted(pipeline.resolver.get("selfie"))
    renderer = FrameRenderer(counted, OutputSpec(), refine=False, steady=None, model_every=3)
    run(renderer, frames)
    assert counted.calls == 6


def test_a_cut_gets_its_own_matte_at_once(pipeline: Pipeline) -> None:
    frames = person_frames(8, (160, 120))
    noise = np.random.default_rng(0).integers(0, 255, frames[0].shape, dtype=np.uint8)
    counted = Counted(pipeline.resolver.get("selfie"))
    renderer = FrameRenderer(
        counted, OutputSpec(), refine=False, steady=TemporalParams(), model_every=4
    )
    run(renderer, frames[:2])  # frame 0: the model; frame 1 carried
    assert counted.calls == 1
    run(renderer, [noise])  # another scene: nothing to carry
    assert counted.calls == 2


def test_a_clip_asks_the_gate_once_while_the_person_stays(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    matter = pipeline.resolver.get("auto")
    assert isinstance(matter, PresetMatter)
    looks = []
    original = matter.gate.presence

    def presence(*args: object, **keywords: object) -> float:
        looks.append(1)
        return original(*args, **keywords)  # type: ignore[arg-type]

    monkeypatch.setattr(matter.gate, "presence", presence)
    clip = ClipMatter(matter)
    frames = person_frames(6, (320, 240))
    mattes = [clip.matte(frame, (320, 240)).alpha for frame in frames]
    # a clip keeps every part of the matte (a photo drops far smaller ones) and the map's soft
    # edge (a photo's is steepened)
    every_part = replace(matter.spec.params, parts=0.0)
    photo_evidence = [matter.evidence(frame) for frame in frames]
    photo_mattes = [
        matter.matte_from(evidence, (320, 240), every_part, steepen=1.0).alpha
        for evidence in photo_evidence
    ]
    steep_mattes = [
        matter.matte_from(evidence, (320, 240), every_part).alpha for evidence in photo_evidence
    ]
    assert len(looks) == 1 + len(frames)  # once for the clip, then once per photo
    for as_clip, as_photo, steep in zip(mattes, photo_mattes, steep_mattes, strict=True):
        assert np.count_nonzero(as_clip >= 128) > 0.05 * as_clip.size  # the person is kept
        if as_photo.max() == 255:  # a sure gate on the photo: the same matte
            assert np.array_equal(as_clip, as_photo)
        assert np.array_equal(steep >= 128, as_photo >= 128)
        soft = np.count_nonzero((as_photo > 0) & (as_photo < 255))
        assert np.count_nonzero((steep > 0) & (steep < 255)) < soft


def test_a_clip_keeps_every_part_of_the_matte(pipeline: Pipeline) -> None:
    """A passer-by whose size against the subject's crosses the ``parts`` share from frame to
    frame would vanish and come back: a clip drops no part."""
    for name in ("auto", "quality"):
        matter = pipeline.resolver.get(name)
        assert isinstance(matter, PresetMatter)
        params = ClipMatter(matter)._params
        assert params is not None and params.parts == 0.0
        assert replace(params, parts=matter.spec.params.parts) == matter.spec.params


def _asked(matter: PresetMatter, keyword: str, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The value of ``keyword`` in each call of ``matter.evidence``, from now on."""
    asked: list[object] = []
    original = matter.evidence

    def evidence(*args: object, **keywords: object) -> object:
        asked.append(keywords[keyword])
        return original(*args, **keywords)  # type: ignore[arg-type]

    monkeypatch.setattr(matter, "evidence", evidence)
    return asked


def test_a_clip_decides_on_its_first_frame_whether_it_is_dim(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stretch of the levels that came and went from frame to frame would flicker: a clip
    that starts dim is seen stretched throughout, even where it brightens."""
    matter = pipeline.resolver.get("auto")
    assert isinstance(matter, PresetMatter)
    frames = person_frames(3, (320, 240))
    dark = (frames[0] // 4).astype(np.uint8)
    assert matter.is_dim(dark) and not matter.is_dim(frames[1])
    seen = _asked(matter, "dim", monkeypatch)
    clip = ClipMatter(matter)
    for frame in (dark, *frames[1:]):
        clip.matte(frame, (320, 240))
    assert seen == [True, True, True]


def test_a_clip_decides_once_to_see_a_person_lying_down_upright(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn that came and went from frame to frame would flicker: once the gate is sure,
    the clip keeps the turn it decided on."""
    matter = pipeline.resolver.get("auto")
    assert isinstance(matter, PresetMatter)
    lying = np.ascontiguousarray(np.rot90(np.asarray(images.astronaut().convert("RGB")), 1))
    asked = _asked(matter, "turns", monkeypatch)
    clip = ClipMatter(matter)
    mattes = [clip.matte(lying, size_of(lying)).alpha for _ in range(3)]
    # the first frame decides (None), each later one is given the turn (3); each time the
    # pipeline then looks at the turned frame itself (0: as it is)
    assert asked == [None, 0, 3, 0, 3, 0]
    assert all(np.array_equal(mattes[0], other) for other in mattes[1:])
    assert np.count_nonzero(mattes[0] >= 128) > 0.3 * mattes[0].size


def test_a_clip_without_a_person_stays_empty(pipeline: Pipeline) -> None:
    clip = ClipMatter(pipeline.resolver.get("auto"))
    rng = np.random.default_rng(5)
    blank = np.full((120, 160, 3), 90, np.uint8) + rng.integers(0, 8, (120, 160, 3), np.uint8)
    assert all(clip.matte(blank, (160, 120)).alpha.max() == 0 for _ in range(3))
