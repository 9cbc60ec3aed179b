"""The `humanseg` command as a user runs it."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import httpx
import pytest

from tests.support import images, servers
from tests.support.cli import humanseg

pytestmark = pytest.mark.slow  # every test here starts processes (servers, CLIs or a browser)


def test_help_lists_commands() -> None:
    result = humanseg("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout and "models" in result.stdout
    serve_help = humanseg("serve", "--help").stdout
    for flag in ("--host", "--port", "--workers", "--url-allowlist", "HUMANSEG_MAX_IMAGE_SIDE"):
        assert flag in serve_help


def test_models_pull_and_list(tmp_path: Path) -> None:
    before = humanseg("models", "list", "--model-dir", str(tmp_path))
    assert before.returncode == 0
    selfie_row = next(line for line in before.stdout.splitlines() if line.startswith("selfie "))
    assert "Apache-2.0" in selfie_row and " no " in f"{selfie_row} "
    pulled = humanseg("models", "pull", "selfie", "--model-dir", str(tmp_path))
    assert pulled.returncode == 0, pulled.stderr
    assert "verified" in pulled.stderr
    assert (tmp_path / "selfie_segmentation.tflite").stat().st_size == 249505
    after = humanseg("models", "list", "--model-dir", str(tmp_path))
    assert "yes" in next(line for line in after.stdout.splitlines() if line.startswith("selfie "))


def test_unknown_model_fails_with_one_line(tmp_path: Path) -> None:
    result = humanseg("models", "pull", "nope", "--model-dir", str(tmp_path))
    assert result.returncode == 1
    assert "unknown_model" in result.stderr and "selfie" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_without_reachable_index_says_how_to_get_the_model(tmp_path: Path) -> None:
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "", "HUMANSEG_MODEL_DIR": str(tmp_path)}
    result = humanseg("serve", "--port", str(servers.free_port()), env=env, timeout=120)
    assert result.returncode == 1
    assert "model_unavailable" in result.stderr
    assert "humanseg models pull selfie" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_one_clear_line() -> None:
    result = humanseg("serve", "--port", "99999")
    assert result.returncode == 1
    assert "HUMANSEG_PORT" in result.stderr and "Traceback" not in result.stderr
    result = humanseg("serve", env={"HUMANSEG_MAX_IMAGE_SIDE": "big"})
    assert result.returncode == 1 and "HUMANSEG_MAX_IMAGE_SIDE" in result.stderr


def test_serve_with_two_workers_each_taking_the_flags(artifacts_dir: Path) -> None:
    """Flags reach every worker process (they are not passed through the environment)."""
    flags = ["--workers", "2", "--auth", "api_key", "--api-keys", "k1", "--max-header-count", "16"]
    with servers.humanseg_server({}, artifacts_dir / "server-2-workers.log", flags) as url:
        photo = base64.b64encode(images.astronaut_jpeg()).decode()
        servers.wait_for_workers(url)  # each new connection may reach either process
        many = b"".join(b"X-H%d: 1\r\n" % n for n in range(20))
        address = httpx.URL(url)
        for _ in range(6):  # new connections, spread over both workers
            assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401
            with socket.create_connection((address.host, address.port), timeout=10) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
                assert sock.recv(4096).startswith(b"HTTP/1.1 431")
        with httpx.Client(base_url=url, timeout=60, headers={"X-Api-Key": "k1"}) as client:
            for _ in range(6):
                response = client.post("/human_image_segmentation", json={"img": photo})
                assert response.status_code == 200
        log = (artifacts_dir / "server-2-workers.log").read_text()
        assert log.count("Started server process") == 2


def test_eval_scores_models_on_folders(tmp_path: Path) -> None:
    """The selfie model scored against its own mattes is perfect; `auto` is scored k-fold
    (held out), empties the cup and the cat that selfie outlines, and leaves at least 90 % of
    the person-free standard images empty."""
    from PIL import ImageOps

    from humanseg.pipeline import Pipeline
    from humanseg.settings import PipelineSettings

    pipeline = Pipeline(PipelineSettings())
    sets = {
        "one": {"astronaut": images.astronaut(), "coffee": images.coffee()},
        "two": {"mirrored": ImageOps.mirror(images.astronaut()), "cat": images.cat()},
    }
    for folder, photos in sets.items():
        (tmp_path / folder / "images").mkdir(parents=True)
        (tmp_path / folder / "masks").mkdir()
        for name, photo in photos.items():
            data = images.encode(photo, "JPEG", quality=90)
            (tmp_path / folder / "images" / f"{name}.jpg").write_bytes(data)
            (tmp_path / folder / "masks" / f"{name}.png").write_bytes(
                pipeline.process(data, model="selfie").data
            )
    folders = [str(tmp_path / "one"), str(tmp_path / "two")]
    result = humanseg(
        "eval", *folders, "--model", "selfie", "--model", "auto", "--folds", "2",
        "--fold-salt", "x", "--no-reference", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = {entry["model"]: entry for entry in json.loads(result.stdout)}
    selfie = {row["set"]: row for row in report["selfie"]["sets"]}
    assert set(selfie) == {"one", "two", "mean"} and selfie["mean"]["images"] == 4
    assert selfie["one"]["miou"] == 1.0 and selfie["one"]["mad"] == 0.0
    assert selfie["one"]["boundary_f"] == 1.0 and selfie["one"]["median_ms"] > 0
    assert not selfie["one"]["held_out"]  # a single model has no numbers to choose
    auto = {row["set"]: row for row in report["auto"]["sets"]}
    assert all(row["held_out"] for row in auto.values())
    assert auto["one"]["miou"] < 1.0  # auto empties the coffee cup that selfie outlines
    photos = {photo["name"]: photo for photo in report["auto"]["photos"]}
    assert photos["coffee"]["empty"] and photos["cat"]["empty"]
    assert not photos["astronaut"]["empty"] and not photos["mirrored"]["empty"]
    assert all(0.0 <= photo["confidence"] <= 1.0 for photo in photos.values())
    free = report["auto"]["person_free"]
    assert free["total"] >= 20 and free["empty"] >= 0.9 * free["total"], free
    table = humanseg("eval", folders[0], "--model", "selfie", "--no-person-free")
    assert "| selfie | one | 2 | 1.000 | 0.0000 | 1.000 | 0 | 0 |" in table.stdout
    assert "selfie: the 2 worst photos" in table.stdout
    fewer = humanseg(
        "eval", *folders, "--model", "selfie", "--exclude", "one/coffee", "--no-person-free",
    )  # fmt: skip
    assert "| selfie | one | 1 |" in fewer.stdout and "| selfie | two | 2 |" in fewer.stdout
    assert "left out: one/coffee" in fewer.stdout
    # the photos in grayscale: selfie no longer answers exactly as on the colour photos
    gray = humanseg(
        "eval", folders[0], "--model", "selfie", "--transform", "grayscale", "--no-person-free"
    )
    assert gray.returncode == 0, gray.stderr
    assert "| selfie | one | 2 |" in gray.stdout and "| 1.000 | 0.0000 |" not in gray.stdout
    assert "every photo turned to grayscale" in gray.stdout
    typo = humanseg("eval", *folders, "--model", "selfie", "--exclude", "one/cofee")
    assert typo.returncode == 1 and "one/cofee" in typo.stderr and "Traceback" not in typo.stderr


def test_eval_needs_images_and_masks(tmp_path: Path) -> None:
    result = humanseg("eval", str(tmp_path), "--model", "selfie")
    assert result.returncode == 1
    assert "images/ and masks/" in result.stderr and "Traceback" not in result.stderr
