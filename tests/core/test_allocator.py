"""The allocator tuning that keeps a request's freed arrays for the next one."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from humanseg import allocator
from tests.support import images, servers


def _page_faults(pid: int) -> int:
    """Minor page faults of a process so far (/proc/<pid>/stat, field 10)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc and /proc only")
def test_server_requests_reuse_freed_memory(tmp_path: Path) -> None:
    """Without the tuning, each 1 MP request page-faulted 1,700–2,900 fresh pages here."""
    photo = images.encode(images.astronaut().resize((1000, 1000)), "JPEG", quality=90)
    body = {"img": base64.b64encode(photo).decode()}
    env = {name: value for name, value in os.environ.items() if name.startswith("MALLOC_")}
    assert not env, "the test needs malloc without the user's own settings"
    with (
        servers.humanseg_process({}, tmp_path / "server.log") as (url, process),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        for _ in range(3):  # the heap grows to its working size once
            client.post("/human_image_segmentation", json=body).raise_for_status()
        before = _page_faults(process.pid)
        for _ in range(10):
            client.post("/human_image_segmentation", json=body).raise_for_status()
        per_request = (_page_faults(process.pid) - before) / 10
    assert per_request < 300
    assert "server: malloc keeps freed blocks below 32 MiB" in (tmp_path / "server.log").read_text()


def test_constructing_a_pipeline_leaves_the_process_alone() -> None:
    """The tuning is process-wide: only a serving process's start applies it, never a class."""
    script = (
        "from humanseg import allocator; from humanseg.pipeline import Pipeline;"
        "from humanseg.settings import PipelineSettings;"
        "Pipeline(PipelineSettings()); print(allocator._done)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


def test_tune_process_says_what_it_did(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="humanseg.allocator"):
        tuned = allocator.tune_process("test worker")
    assert caplog.messages[-1].startswith("test worker: malloc ")
    assert ("keeps freed blocks" in caplog.messages[-1]) == tuned


def test_users_own_malloc_settings_win() -> None:
    assert allocator._user_tuned({"MALLOC_ARENA_MAX": "2"})
    assert allocator._user_tuned({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"})
    assert not allocator._user_tuned({"HOME": "/root"})
