"""Clips as job items: named by the one rule, run one per task, failing alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanseg.errors import ErrorCode, HumansegError
from humanseg.jobs.engine import run_job
from humanseg.jobs.locations import open_location, walk_images
from humanseg.jobs.manifest import Manifest
from humanseg.jobs.naming import output_key
from humanseg.jobs.plan import Item, plan
from humanseg.jobs.ray_data import BATCH_SIZE, calls
from humanseg.jobs.request import OutputRequest
from humanseg.jobs.sinks import default_manifest
from humanseg.jobs.video import VideoJob
from humanseg.jobs.worker import Task, run_in_process
from humanseg.outputs import ImageFormat
from humanseg.settings import SourceSettings, VideoSettings, load_settings
from tests.support import images
from tests.support.batch import manifest_lines
from tests.support.videos import person_frames, read_clip, write_clip


def _tree(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")


def test_walks_take_clips_by_suffix_and_gif_as_a_clip(tmp_path: Path) -> None:
    _tree(tmp_path, "a.jpg", "b.MP4", "c.gif", "d.mkv", "e.webm", "f.mov", "g.txt", ".h.mp4")
    assert list(walk_images(tmp_path)) == ["a.jpg", "b.MP4", "c.gif", "d.mkv", "e.webm", "f.mov"]


def test_clips_are_named_by_the_format_of_their_type(tmp_path: Path) -> None:
    _tree(tmp_path / "in", "a.jpg", "talks/b.mov", "c.gif")
    destination = open_location(str(tmp_path / "out"))
    job = plan(
        [str(tmp_path / "in")], destination, SourceSettings(), ImageFormat.PNG, lambda: ".webm"
    )
    assert sorted(item.output for item in job.items) == ["a.png", "c.webm", "talks/b.webm"]
    assert output_key("x/y.mkv", ImageFormat.JPEG, lambda: ".mp4") == "x/y.mp4"


def test_clips_fail_alone_when_the_job_cannot_write_them(tmp_path: Path) -> None:
    _tree(tmp_path / "in", "a.jpg", "b.mp4", "c.mp4", "c.webm")
    destination = open_location(str(tmp_path / "out"))
    job = plan([str(tmp_path / "in")], destination, SourceSettings(), ImageFormat.PNG)
    assert [item.key for item in job.items] == ["a.jpg"]
    assert {entry.code for entry in job.failed} == {ErrorCode.UNSUPPORTED_FORMAT}
    request = OutputRequest(type="foreground")
    with_clips = plan(
        [str(tmp_path / "in")],
        destination,
        SourceSettings(),
        ImageFormat.PNG,
        lambda: VideoJob().suffix(request, VideoSettings()),
    )
    assert [item.output for item in with_clips.items] == ["a.png", "b.webm"]
    [clash, other] = sorted(with_clips.failed, key=lambda entry: entry.key)
    assert (clash.key, other.key) == ("c.mp4", "c.webm")  # both would be c.webm
    assert "c.webm" in clash.message


def test_a_type_clips_cannot_take_fails_with_its_code() -> None:
    with pytest.raises(HumansegError) as caught:
        VideoJob().suffix(OutputRequest(type="crop"), VideoSettings())
    assert caught.value.code is ErrorCode.INVALID_TYPE


def test_ray_calls_take_each_clip_alone() -> None:
    names = [f"{index}.jpg" for index in range(BATCH_SIZE + 2)]
    names[3] = "talk.mp4"
    items = [Item(name, None) for name in names]
    groups = calls(items)
    assert [3] in groups
    assert sorted(index for group in groups for index in group) == list(range(len(names)))
    assert all(len(group) <= BATCH_SIZE for group in groups)
    assert all(len(group) == 1 for group in groups if 3 in group)


@pytest.mark.slow  # the real model on every frame
def test_images_and_clips_in_one_job_resume_and_a_broken_clip_fails(tmp_path: Path) -> None:
    source = tmp_path / "in"
    (source / "clips").mkdir(parents=True)
    images.astronaut().convert("RGB").save(source / "photo.jpg")
    clip = write_clip(source / "clips" / "talk.mp4", person_frames(6, (96, 72)))
    (source / "clips" / "broken.mov").write_bytes(clip.read_bytes()[:300])
    destination = open_location(str(tmp_path / "out"))
    settings = load_settings()
    request = OutputRequest(type="blur")
    video = VideoJob()
    job = plan(
        [str(source)],
        destination,
        settings.sources,
        ImageFormat.PNG,
        lambda: video.suffix(request, settings.video),
    )
    task = Task(settings, request, destination, video=video)

    def run() -> object:
        with Manifest(default_manifest(destination)) as manifest:
            return run_job(
                job,
                destination,
                lambda items: run_in_process(task, items),
                manifest=manifest,
                progress=False,
            )

    first = run()
    assert (first.done, first.failed) == (2, 1)  # type: ignore[attr-defined]
    out = tmp_path / "out"
    facts = read_clip(out / "clips" / "talk.mp4")
    assert (facts.frames, facts.size, facts.audio_codec) == (6, (96, 72), "aac")
    assert (out / "photo.png").is_file()
    assert not (out / ".humanseg-tmp").exists()
    lines = manifest_lines(out / ".humanseg-batch.jsonl")
    failed = [line for line in lines if line["status"] == "failed"]
    assert [(line["key"], line["code"]) for line in failed] == [
        ("clips/broken.mov", ErrorCode.INVALID_VIDEO)
    ]
    done = {line["key"]: line["output"] for line in lines if line["status"] == "done"}
    assert done == {"photo.jpg": "photo.png", "clips/talk.mp4": "clips/talk.mp4"}
    again = run()
    assert (again.done, again.failed, again.skipped) == (0, 1, 2)  # type: ignore[attr-defined]
