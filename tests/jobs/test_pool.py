"""The process pool keeps every item when its pool breaks between two waits."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from click.testing import CliRunner

from humanseg.commands.main import main
from humanseg.jobs import pool
from tests.support.batch import check_output, photo_set, write_folder


class _BreaksOnSubmit(ProcessPoolExecutor):
    """A pool whose worker "dies" just as the third item is submitted (the first pool only):
    what ``submit`` raises when a worker died after the pool's last wait."""

    submitted = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        type(self).submitted += 1
        if type(self).submitted == 3:
            raise BrokenProcessPool("a child process terminated abruptly")
        return super().submit(fn, *args, **kwargs)


def test_a_pool_broken_at_submit_loses_no_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "ProcessPoolExecutor", _BreaksOnSubmit)
    source, destination = tmp_path / "in", tmp_path / "out"
    photos = photo_set(6)
    write_folder(source, photos)
    result = CliRunner().invoke(
        main, ["batch", str(source), str(destination), "--workers", "2", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert _BreaksOnSubmit.submitted > 3  # a second pool took the rest
    for key, data in photos.items():
        check_output(key, (destination / key).with_suffix(".png").read_bytes(), data)
