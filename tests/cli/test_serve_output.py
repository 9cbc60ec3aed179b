"""What `humanseg serve` prints: the banner only once the port is bound, no raw native lines."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.support import images, servers

pytestmark = pytest.mark.slow  # every test here starts processes (servers, CLIs or a browser)


def test_port_in_use_is_one_clear_line_and_no_banner() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "humanseg", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "serving on" not in result.stderr and "Traceback" not in result.stderr


def test_banner_names_the_bound_port_and_native_lines_are_logged(artifacts_dir: Path) -> None:
    env = {**os.environ, "HUMANSEG_LOG_LEVEL": "debug", "HUMANSEG_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [sys.executable, "-m", "humanseg", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    banner = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if "serving on" in line:
                banner.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert banner.wait(timeout=300), "\n".join(lines[-20:])
        url = re.search(r"serving on (http://127\.0\.0\.1:(\d+))", "\n".join(lines))
        assert url is not None and url.group(2) != "0"
        base = url.group(1)
        servers.wait_until(
            lambda: httpx.get(f"{base}/readyz", timeout=2).status_code == 200,
            timeout=300,
            what="humanseg server",
            process=process,
        )
        photo = images.encode(images.astronaut())
        response = httpx.post(
            f"{base}/human_image_segmentation",
            json={"img": base64.b64encode(photo).decode(), "type": "id_photo"},
            timeout=60,
        )
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=60)
        reader.join(timeout=10)
    (artifacts_dir / "serve-output.log").write_text("\n".join(lines))

    after_banner = lines[next(i for i, line in enumerate(lines) if "serving on" in line) + 1 :]
    records = [json.loads(line) for line in after_banner if line.strip()]  # every line is JSON
    native = [record for record in records if record["logger"] == "humanseg.native"]
    assert any("XNNPACK" in record["message"] for record in native)
    assert not any(line.startswith("INFO: Created TensorFlow Lite") for line in lines)
