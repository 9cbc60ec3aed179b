"""Planning a job: what is read, what each output is called, what fails before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanseg.errors import ErrorCode
from humanseg.jobs.cores import shared_cores, worker_settings
from humanseg.jobs.locations import LocalFolder, open_location, walk_images
from humanseg.jobs.naming import output_key, split_collisions
from humanseg.jobs.plan import plan
from humanseg.jobs.sinks import OutputFile, Stdout, open_sink
from humanseg.outputs import ImageFormat
from humanseg.settings import SourceSettings, load_settings

SETTINGS = SourceSettings()


def _tree(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")


def _outputs(inputs: list[str], destination: Path, fmt: ImageFormat = ImageFormat.PNG):
    job = plan(inputs, open_location(str(destination)), SETTINGS, fmt)
    return sorted(item.output for item in job.items), job.failed


def test_one_walk_skips_hidden_files_and_folders_and_non_images(tmp_path: Path) -> None:
    _tree(tmp_path, "a.jpg", "sub/b.PNG", ".hidden.jpg", ".git/c.jpg", "sub/.cache/d.jpg", "e.txt")
    assert list(walk_images(tmp_path)) == ["a.jpg", "sub/b.PNG"]
    assert list(walk_images(tmp_path, skip=tmp_path / "sub")) == ["a.jpg"]


def test_outputs_keep_the_tree_with_the_suffix_of_their_format(tmp_path: Path) -> None:
    _tree(tmp_path / "in", "a.jpg", "sub/b.bmp", "sub/deeper/c.jpeg")
    _tree(tmp_path, "loose.png")
    inputs = [str(tmp_path / "in"), str(tmp_path / "loose.png")]
    assert _outputs(inputs, tmp_path / "out") == (
        ["a.png", "loose.png", "sub/b.png", "sub/deeper/c.png"],
        [],
    )
    webp, _ = _outputs(inputs, tmp_path / "out", ImageFormat.WEBP)
    assert webp == ["a.webp", "loose.webp", "sub/b.webp", "sub/deeper/c.webp"]
    assert output_key("x/y.png", ImageFormat.JPEG) == "x/y.jpg"


def test_inputs_sharing_an_output_all_fail(tmp_path: Path) -> None:
    _tree(tmp_path / "in", "a.jpg", "a.png", "b.jpg")
    outputs, failed = _outputs([str(tmp_path / "in")], tmp_path / "out")
    assert outputs == ["b.png"]
    assert sorted(entry.key for entry in failed) == ["a.jpg", "a.png"]
    assert all(entry.code == ErrorCode.INVALID_REQUEST for entry in failed)
    assert all("would all be written to a.png" in (entry.message or "") for entry in failed)
    unique, colliding = split_collisions(["x", "y", "X"], str.lower)
    assert unique == ["y"] and [item for item, _ in colliding] == ["x", "X"]


def test_the_same_file_through_two_inputs_is_read_once(tmp_path: Path) -> None:
    _tree(tmp_path / "in", "a.jpg")
    outputs, failed = _outputs(
        [str(tmp_path / "in" / "a.jpg"), str(tmp_path / "in" / "*.jpg")], tmp_path / "out"
    )
    assert outputs == ["a.png"] and failed == []


def test_the_destination_is_never_read_back(tmp_path: Path) -> None:
    _tree(tmp_path, "a.jpg", "out/a.png", "out/old.png")
    outputs, _ = _outputs([str(tmp_path)], tmp_path / "out")
    assert outputs == ["a.png"]  # the folder below the input is left out
    outputs, _ = _outputs([str(tmp_path / "**" / "*.png")], tmp_path / "out")
    assert outputs == []  # glob matches inside the destination are skipped
    _, failed = _outputs([str(tmp_path)], tmp_path)
    assert [entry.code for entry in failed] == [ErrorCode.INVALID_REQUEST]
    assert "The destination is the source" in (failed[0].message or "")


def test_inputs_that_name_nothing_fail_each_with_a_reason(tmp_path: Path) -> None:
    _tree(tmp_path, "a.jpg")
    given = [str(tmp_path / "nope.jpg"), str(tmp_path / "*.gif"), "ftp://host/x"]
    outputs, failed = _outputs([*given, str(tmp_path / "a.jpg")], tmp_path / "out")
    assert outputs == ["a.png"]
    assert [(entry.key, entry.code) for entry in failed] == [
        (given[0], ErrorCode.INVALID_REQUEST),
        (given[1], ErrorCode.INVALID_REQUEST),
        (given[2], ErrorCode.INVALID_URL),
    ]


def test_sinks(tmp_path: Path) -> None:
    assert open_sink("-", single_file=True) == Stdout()
    assert open_sink(str(tmp_path / "x.jpg"), single_file=True) == OutputFile(tmp_path / "x.jpg")
    assert open_sink(str(tmp_path / "x.jpg"), single_file=False) == LocalFolder(tmp_path / "x.jpg")
    assert str(open_sink("s3://bucket/some/prefix", single_file=False)) == (
        "s3://bucket/some/prefix/"
    )


@pytest.mark.parametrize(
    ("explicit", "processes", "threads"),
    [({}, 1, 8), ({}, 3, 2), ({}, 16, 1), ({"inference_threads": 5}, 4, 5)],
)
def test_one_rule_shares_the_cores(explicit: dict[str, int], processes: int, threads: int) -> None:
    share = shared_cores(explicit, cpus=8, processes=processes)
    assert share["inference_threads"] == threads and "max_concurrency" not in share
    assert shared_cores(explicit, cpus=8, concurrency=2)["max_concurrency"] == 2  # a replica
    settings = worker_settings(load_settings(**explicit), processes=processes, cpus=8)
    assert settings.pipeline.inference_threads == threads


def test_an_s3_object_or_prefix_is_an_input(tmp_path: Path) -> None:
    destination = open_location(str(tmp_path / "out"))
    job = plan(["s3://bucket/shoot/day1/x.jpg"], destination, SETTINGS, ImageFormat.PNG)
    [item] = job.items
    assert (item.key, item.output, item.name) == ("x.jpg", "x.png", "s3://bucket/shoot/day1/x.jpg")
    assert [
        entry.code for entry in plan(["s3://"], destination, SETTINGS, ImageFormat.PNG).failed
    ] == [ErrorCode.INVALID_URL]
