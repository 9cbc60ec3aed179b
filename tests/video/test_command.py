"""`humanseg video` as a user runs it: a subprocess, a progress bar, a failing clip reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.videos import person_frames, read_clip, write_clip

pytestmark = pytest.mark.slow  # starts CLI processes


def video(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humanseg", "video", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_clips_to_a_folder_with_progress_and_a_failure(tmp_path: Path) -> None:
    good = write_clip(tmp_path / "talk.mp4", person_frames(8, (96, 72)))
    broken = tmp_path / "broken.mov"
    broken.write_bytes(good.read_bytes()[:300])
    out = tmp_path / "out"
    result = video(str(good), str(broken), "-o", str(out), "--type", "blur")
    assert result.returncode == 1, result.stderr
    assert "frame/s" in result.stderr and "8/8" in result.stderr  # tqdm: frames, rate, ETA
    assert "broken.mov" in result.stderr and "[invalid_video]" in result.stderr
    assert "Traceback" not in result.stderr
    facts = read_clip(out / "talk.mp4")
    assert (facts.frames, facts.size, facts.audio_codec) == (8, (96, 72), "aac")
    again = video(str(good), "-o", str(out), "--type", "blur", "-q")
    assert again.returncode == 0 and "already there" in again.stderr


def test_one_clip_to_a_named_transparent_file(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in.webm", person_frames(5, (96, 72)))
    target = tmp_path / "cutout.mov"
    result = video(str(clip), "-o", str(target), "--model", "auto", "--no-steady", "-q")
    assert result.returncode == 0, result.stderr
    facts = read_clip(target)
    assert facts.codec == "prores" and facts.frames == 5 and len(facts.alpha) == 5
    assert facts.audio_codec == "aac"  # MOV does not take the WebM's Opus: re-encoded
    wrong = video(str(clip), "-o", str(tmp_path / "cutout.mp4"), "-q")
    assert wrong.returncode == 1 and "[invalid_format]" in wrong.stderr


def test_clips_side_by_side_in_worker_processes(tmp_path: Path) -> None:
    clips = [write_clip(tmp_path / f"{name}.mkv", person_frames(4, (64, 48))) for name in "ab"]
    out = tmp_path / "out"
    result = video(*map(str, clips), "-o", str(out), "--type", "mask", "-j", "2")
    assert result.returncode == 0, result.stderr
    assert "2/2" in result.stderr and "clip" in result.stderr  # one bar over the clips
    assert [read_clip(out / f"{name}.mp4").frames for name in "ab"] == [4, 4]
    assert sorted(path.name for path in out.iterdir()) == ["a.mp4", "b.mp4"]  # no scratch left
