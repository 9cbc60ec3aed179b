"""The manifest: one JSON line per finished key, read back after a crash."""

from __future__ import annotations

from pathlib import Path

from humanseg.jobs.manifest import Entry, Manifest


def test_manifest_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    with Manifest(path) as manifest:
        manifest.record(Entry("a.jpg", "done", output="a.png"))
        manifest.record(Entry("b.jpg", "failed", code="invalid_image", message="bad"))
    with path.open("a") as file:
        file.write('{"key": "c.jpg", "sta')  # a crash mid-line
    with Manifest(path) as manifest:
        assert manifest.done == {"a.jpg"} and set(manifest.failed) == {"b.jpg"}
        manifest.record(Entry("b.jpg", "done", output="b.png"))
    reread = Manifest(path)
    assert reread.done == {"a.jpg", "b.jpg"} and not reread.failed
    assert (
        path.read_text().splitlines()[-1] == '{"key": "b.jpg", "status": "done", "output": "b.png"}'
    )
