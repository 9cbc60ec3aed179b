"""The temporal step and the flicker metric, as pure functions on synthetic clips."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from humanseg import scoring
from humanseg.video.steadiness import clip_flicker, clip_miou, frame_flicker
from humanseg.video.synthetic import CameraPath, SyntheticFrame, camera_clip, camera_warps
from humanseg.video.temporal import (
    SteadyMatte,
    TemporalParams,
    blend_weight,
    flow_gray,
    steady_step,
)

PATH = CameraPath(frames=16, size=(160, 120), seed=3)


def scene() -> tuple[np.ndarray, np.ndarray]:
    """A textured backdrop (so the flow has something to follow) and a person-like ellipse."""
    rng = np.random.default_rng(7)
    backdrop = cv2.resize(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8), (400, 300))
    mask = np.zeros((300, 400), np.uint8)
    cv2.ellipse(mask, (200, 170), (60, 110), 0, 0, 360, 255, -1)
    cv2.circle(mask, (200, 60), 35, 255, -1)
    skin = np.full_like(backdrop, (200, 150, 120))
    texture = cv2.resize(rng.integers(0, 60, (15, 20, 1), dtype=np.uint8), (400, 300))
    person = np.clip(skin.astype(np.int16) - texture[..., None], 0, 255).astype(np.uint8)
    photo = np.where(mask[..., None] > 0, person, backdrop)
    return photo, mask


def clip(size: tuple[int, int] = PATH.size) -> list[SyntheticFrame]:
    photo, mask = scene()
    return list(camera_clip(photo, mask, replace(PATH, size=size)))


def jittery_mattes(frames: list[SyntheticFrame], seed: int = 0) -> list[np.ndarray]:
    """What a frame-by-frame model gives: the truth with its edge and weak regions wobbling."""
    rng = np.random.default_rng(seed)
    out = []
    for frame in frames:
        height, width = frame.truth.shape
        soft = cv2.GaussianBlur(frame.truth, (0, 0), 2.0).astype(np.float32)
        wobble = cv2.resize(rng.normal(0, 30, (height // 10, width // 10)), (width, height))
        shift = rng.normal(0, 20)
        out.append(np.clip(soft + shift + wobble.astype(np.float32), 0, 255).astype(np.uint8))
    return out


def test_clip_frames_have_the_size_and_known_motion() -> None:
    frames = clip()
    assert len(frames) == PATH.frames
    assert frames[0].rgb.shape == (120, 160, 3) and frames[0].truth.shape == (120, 160)
    warps = camera_warps((400, 300), PATH)
    assert all(np.allclose(frame.warp, warp) for frame, warp in zip(frames, warps, strict=True))
    # the camera really moves, so undoing the motion is needed
    assert not np.allclose(frames[0].warp, frames[5].warp)


def test_the_true_masks_do_not_flicker_and_a_frozen_matte_does() -> None:
    frames = clip()
    truths = [frame.truth for frame in frames]
    warps = [frame.warp for frame in frames]
    assert clip_flicker(truths, truths, warps) < 0.002
    frozen = [truths[0]] * len(truths)  # a matte that ignores the camera's motion
    assert clip_flicker(frozen, truths, warps) > 5 * clip_flicker(truths, truths, warps)


def test_frame_flicker_counts_only_pixels_whose_truth_is_unchanged() -> None:
    truth = np.zeros((40, 40), np.uint8)
    truth[10:30, 10:30] = 255
    same = np.eye(3)
    matte = truth.copy()
    changed = matte.copy()
    changed[0:5, 0:5] = 255  # a blob in the background, where the truth stays 0
    value = frame_flicker(matte, changed, truth, truth, same)
    assert value == pytest.approx(25 * 255 / 1600 / 255, rel=1e-6)
    moved_truth = np.roll(truth, 40, axis=1)  # everything changed
    moved_truth[:] = 255 - truth
    assert frame_flicker(matte, matte, truth, moved_truth, same) is None


def test_blend_weight_trusts_the_flow_only_where_the_frames_match() -> None:
    params = TemporalParams(keep=0.8, photo_tolerance=0.1)
    weight = blend_weight(np.array([0.0, 0.05, 0.1, 0.5], np.float32), params)
    assert weight.tolist() == pytest.approx([0.8, 0.4, 0.0, 0.0])


def test_steady_step_carries_the_matte_along_the_motion() -> None:
    frames = clip()
    previous, current = frames[3], frames[4]
    # the previous matte is perfect and the current one is empty where the flow holds: the
    # result is the previous matte moved to where the person now is, weighted by ``keep``
    empty = np.zeros_like(current.truth)
    params = TemporalParams(keep=1.0, photo_tolerance=0.5)
    result = steady_step(
        flow_gray(previous.rgb), flow_gray(current.rgb), previous.truth, empty, params
    )
    assert scoring.iou(result, current.truth) > 0.95
    assert scoring.iou(previous.truth, current.truth) < scoring.iou(result, current.truth)


def test_steady_step_is_pure() -> None:
    frames = clip()
    mattes = jittery_mattes(frames)
    args = (flow_gray(frames[0].rgb), flow_gray(frames[1].rgb), mattes[0], mattes[1])
    assert np.array_equal(steady_step(*args), steady_step(*args))


# the second is larger than the flow's size: the motion is followed there and scaled up
@pytest.mark.parametrize("size", [(160, 120), (960, 720)])
def test_the_temporal_step_halves_flicker_and_keeps_miou(size: tuple[int, int]) -> None:
    frames = clip(size)
    truths = [frame.truth for frame in frames]
    warps = [frame.warp for frame in frames]
    raw = jittery_mattes(frames)
    steady = SteadyMatte()
    steadied = [steady(frame.rgb, matte) for frame, matte in zip(frames, raw, strict=True)]
    before, after = clip_flicker(raw, truths, warps), clip_flicker(steadied, truths, warps)
    assert after <= 0.5 * before, (before, after)
    assert clip_miou(steadied, truths) >= clip_miou(raw, truths) - 0.005


def test_a_new_clip_starts_from_its_own_first_matte() -> None:
    frames = clip()
    steady = SteadyMatte()
    first = jittery_mattes(frames)[0]
    assert np.array_equal(steady(frames[0].rgb, first), first)
    # a matte of another size (the next clip) starts afresh too
    small = cv2.resize(first, (80, 60))
    small_rgb = cv2.resize(frames[1].rgb, (80, 60))
    assert np.array_equal(steady(small_rgb, small), small)


def test_a_skipped_frame_carries_the_previous_matte_along_the_motion() -> None:
    frames = clip()
    steady = SteadyMatte()
    steady.update(steady.follow(frames[0].rgb), frames[0].truth)
    motion = steady.follow(frames[1].rgb)
    assert steady.can_carry(motion, 0.9)
    carried = steady.update(motion, None)  # no matte of its own: the model skipped it
    # the carried matte sits where the person now is, not where they were
    assert scoring.iou(carried, frames[1].truth) > 0.95
    assert scoring.iou(carried, frames[1].truth) > scoring.iou(frames[0].truth, frames[1].truth)


def test_a_cut_to_another_scene_is_not_carried() -> None:
    frames = clip()
    steady = SteadyMatte()
    steady.update(steady.follow(frames[0].rgb), frames[0].truth)
    other = np.random.default_rng(1).integers(0, 255, frames[1].rgb.shape, dtype=np.uint8)
    assert not steady.can_carry(steady.follow(other), 0.9)


def test_the_first_frame_of_a_clip_needs_its_own_matte() -> None:
    frames = clip()
    steady = SteadyMatte()
    motion = steady.follow(frames[0].rgb)
    assert not steady.can_carry(motion, 0.0)
    with pytest.raises(ValueError):
        steady.update(motion, None)


def test_the_carried_share_keeps_its_memory_when_the_model_skips_frames() -> None:
    params = TemporalParams(keep=0.85)
    assert params.with_model_every(1) == params
    assert params.with_model_every(2).keep == pytest.approx(0.7)
    assert params.with_model_every(10).keep == 0.0  # never below nothing
    frames = clip()
    truths = [frame.truth for frame in frames]
    warps = [frame.warp for frame in frames]
    raw = jittery_mattes(frames)
    # the model on every other frame, the frames between carried: still steady, no worse
    steady = SteadyMatte(params.with_model_every(2))
    steadied = []
    for index, (frame, matte) in enumerate(zip(frames, raw, strict=True)):
        motion = steady.follow(frame.rgb)
        steadied.append(steady.update(motion, matte if index % 2 == 0 else None))
    assert clip_flicker(steadied, truths, warps) <= 0.5 * clip_flicker(raw, truths, warps)
    assert clip_miou(steadied, truths) >= clip_miou(raw, truths) - 0.005
