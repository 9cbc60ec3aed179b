"""`humanseg cut` as a user runs it: files, folders, globs, stdin, workers, a remote server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from humanseg.fileio import write_atomic
from tests.support import images, servers
from tests.support.batch import manifest_lines

pytestmark = pytest.mark.slow  # every test here starts processes (servers, CLIs or a browser)


def cut(*args: str, stdin: bytes | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "humanseg", "cut", *args],
        capture_output=True,
        input=stdin,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """in/a.jpg, in/sub/b.png, in/sub/deeper/c.bmp, a text file and a broken JPEG."""
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    person = images.astronaut()
    (root / "a.jpg").write_bytes(images.encode(person, "JPEG"))
    (root / "sub" / "b.png").write_bytes(images.encode(person.resize((320, 240)), "PNG"))
    (root / "sub" / "deeper" / "c.bmp").write_bytes(images.encode(person.resize((64, 80)), "BMP"))
    (root / "notes.txt").write_text("not an image, and not picked up from a folder")
    (root / "sub" / "broken.jpg").write_bytes(images.astronaut_jpeg()[:600])
    return root


def _stray_temporaries(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith(".tmp")]


def test_folder_with_workers_progress_and_a_failure(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cut(str(photos), "-o", str(out), "--workers", "2")
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "error [invalid_image]: sub/broken.jpg: " in stderr
    assert "Traceback" not in stderr
    assert "img/s" in stderr and "<" in stderr  # tqdm's rate and elapsed<remaining
    assert "3 done, 1 failed, 0 already done (of 4 images)" in stderr
    expected = {"a.png": (512, 512), "sub/b.png": (320, 240), "sub/deeper/c.png": (64, 80)}
    for name, size in expected.items():
        matte = images.decode((out / name).read_bytes())
        assert matte.mode == "L" and matte.size == size, name
    head, corners = images.person_region_alpha(np.asarray(Image.open(out / "a.png")))
    assert head > 0.9 and corners < 0.1
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == sorted(expected)
    assert _stray_temporaries(out) == [] and not (out / ".humanseg-tmp").exists()
    failed = [
        line for line in manifest_lines(out / ".humanseg-batch.jsonl") if line["status"] == "failed"
    ]
    assert [(line["key"], line["code"]) for line in failed] == [("sub/broken.jpg", "invalid_image")]


def test_done_outputs_are_skipped_unless_overwrite(photos: Path, tmp_path: Path) -> None:
    (photos / "sub" / "broken.jpg").unlink()
    out = tmp_path / "out"
    assert cut(str(photos), "-o", str(out), "-q").returncode == 0
    first = (out / "a.png").stat().st_mtime_ns
    again = cut(str(photos), "-o", str(out), "-q")
    assert again.returncode == 0 and "0 done, 0 failed, 3 already done" in again.stderr.decode()
    assert (out / "a.png").stat().st_mtime_ns == first
    forced = cut(str(photos), "-o", str(out), "-q", "--overwrite")
    assert forced.returncode == 0 and "3 done, 0 failed, 0 already done" in forced.stderr.decode()
    assert (out / "a.png").stat().st_mtime_ns != first


def test_glob_and_files_with_type_and_model(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "cutouts"
    result = cut(
        str(photos / "**" / "*.png"),
        str(photos / "a.jpg"),
        "-o",
        str(out),
        "--type",
        "foreground",
        "--model",
        "selfie",
        "-j",
        "1",
    )
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(path.name for path in out.iterdir()) == [
        ".humanseg-batch.jsonl",
        "a.png",
        "b.png",
    ]
    cutout = Image.open(out / "b.png")
    assert cutout.mode == "RGBA" and cutout.size == (320, 240)


def test_missing_inputs_fail_without_stopping_the_rest(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cut(
        str(tmp_path / "nope.jpg"), str(photos / "*.gif"), str(photos / "a.jpg"), "-o", str(out)
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert "nope.jpg: No such file or folder." in stderr and "*.gif: No file matches." in stderr
    assert (out / "a.png").exists()


def test_output_folder_inside_the_input_folder_is_not_read_back(photos: Path) -> None:
    (photos / "sub" / "broken.jpg").unlink()
    out = photos / "cut"
    assert cut(str(photos), "-o", str(out), "-q").returncode == 0
    again = cut(str(photos), "-o", str(out), "-q")
    assert "0 done, 0 failed, 3 already done" in again.stderr.decode()
    assert not (out / "cut").exists()


def test_bad_type_and_unknown_model(photos: Path, tmp_path: Path) -> None:
    bad_type = cut(str(photos / "a.jpg"), "-o", str(tmp_path), "--type", "sepia")
    assert bad_type.returncode == 2 and b"sepia" in bad_type.stderr
    unknown = cut(str(photos / "a.jpg"), "-o", str(tmp_path), "--model", "nope")
    assert unknown.returncode == 1 and b"[unknown_model]" in unknown.stderr
    assert b"Traceback" not in unknown.stderr


def test_stdin_to_stdout_and_single_file_name(photos: Path, tmp_path: Path) -> None:
    result = cut("-", "--type", "foreground", stdin=(photos / "a.jpg").read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    cutout = images.decode(result.stdout)
    assert cutout.mode == "RGBA" and cutout.size == (512, 512)

    broken = cut("-", stdin=b"junk")
    assert broken.returncode == 1 and b"[unsupported_format]" in broken.stderr
    assert broken.stdout == b""

    named = tmp_path / "portrait-matte.png"
    assert cut(str(photos / "a.jpg"), "-o", str(named)).returncode == 0
    assert images.decode(named.read_bytes()).mode == "L"


def test_against_a_remote_server(photos: Path, tmp_path: Path, server: str) -> None:
    out = tmp_path / "remote"
    result = cut(str(photos), "-o", str(out), "--server", server, "-j", "3", "--type", "foreground")
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert "error [invalid_image]: sub/broken.jpg" in stderr and "3 done, 1 failed" in stderr
    assert Image.open(out / "sub" / "deeper" / "c.png").mode == "RGBA"

    down = cut(
        str(photos / "a.jpg"),
        "-o",
        str(tmp_path / "x"),
        "--server",
        f"http://127.0.0.1:{servers.free_port()}",
    )
    assert down.returncode == 1 and b"error [fetch_failed]: a.jpg: Cannot reach" in down.stderr


def test_inputs_sharing_an_output_both_fail(photos: Path, tmp_path: Path) -> None:
    (photos / "a.png").write_bytes(b"x")  # a.jpg and a.png would both become a.png
    out = tmp_path / "out"
    result = cut(
        str(photos / "a.jpg"), str(photos / "a.png"), str(photos / "sub" / "b.png"), "-o", str(out)
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert stderr.count("would all be written to a.png") == 2
    assert sorted(path.name for path in out.glob("*.png")) == ["b.png"]


def test_write_atomic_never_leaves_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.png"
    write_atomic(target, b"first")
    assert target.read_bytes() == b"first"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"first"
    assert _stray_temporaries(tmp_path) == []


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_one_input_and_an_image_file_name_writes_that_file(photos: Path, tmp_path: Path) -> None:
    source = str(photos / "a.jpg")
    matte_jpeg, cutout_webp = tmp_path / "out.jpg", tmp_path / "cutout.webp"
    assert cut(source, "-o", str(matte_jpeg), "-q").returncode == 0
    assert matte_jpeg.is_file()
    with Image.open(matte_jpeg) as matte:
        assert matte.format == "JPEG" and matte.mode == "L" and matte.size == (512, 512)
    assert cut(source, "-o", str(cutout_webp), "--type", "foreground", "-q").returncode == 0
    with Image.open(cutout_webp) as cutout:
        assert cutout.format == "WEBP" and cutout.mode == "RGBA"

    refused = cut(source, "-o", str(tmp_path / "cutout.jpg"), "--type", "foreground")
    assert refused.returncode == 1 and b"invalid_format" in refused.stderr
    assert not (tmp_path / "cutout.jpg").exists()
    bmp = cut(source, "-o", str(tmp_path / "matte.bmp"))
    assert bmp.returncode == 1 and b"cannot write .bmp" in bmp.stderr, bmp.stderr
    assert not (tmp_path / "matte.bmp").exists()


def test_summary_reports_no_rate_when_every_image_failed(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("a.jpg", "b.png"):
        (broken / name).write_bytes(b"these bytes are not an image")
    result = cut(str(broken), "-o", str(tmp_path / "out"), "-q")
    summary = result.stderr.decode().strip().splitlines()[-1]
    assert result.returncode == 1
    assert summary.startswith("0 done, 2 failed")
    assert "img/s" not in summary


def test_summary_names_the_results_the_pipeline_doubts(tmp_path: Path) -> None:
    """A single model outlining a coffee cup is a doubtful result; a clear portrait is not."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cup.jpg").write_bytes(images.encode(images.coffee(), "JPEG", quality=90))
    (folder / "astronaut.jpg").write_bytes(images.astronaut_jpeg())
    result = cut(str(folder), "-o", str(tmp_path / "out"), "--model", "selfie", "-j", "1")
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "1 results with a confidence under 0.5 (worth a look): " in stderr
    assert "cup.jpg" in stderr and "astronaut.jpg" not in stderr.split("look): ")[1]


def test_output_options_and_format_name_every_output(photos: Path, tmp_path: Path) -> None:
    (photos / "sub" / "broken.jpg").unlink()
    out = tmp_path / "backdrops"
    result = cut(
        str(photos / "sub"),
        "-o",
        str(out),
        "--type",
        "background",
        "--bg-color",
        "#336699",
        "--format",
        "webp",
        "-q",
    )
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.webp")) == [
        "b.webp",
        "deeper/c.webp",
    ]
    with Image.open(out / "b.webp") as backdrop:
        assert backdrop.format == "WEBP" and backdrop.size == (320, 240)
        corner = backdrop.convert("RGB").getpixel((0, 0))
    assert all(abs(a - b) < 24 for a, b in zip(corner, (0x33, 0x66, 0x99), strict=True))
    missing = cut(str(photos / "a.jpg"), "-o", str(tmp_path / "x"), "--type", "background")
    assert missing.returncode == 1 and b"error [missing_background]" in missing.stderr


def test_cut_and_batch_take_the_same_options() -> None:
    def options(command: str) -> set[str]:
        help_text = subprocess.run(
            [sys.executable, "-m", "humanseg", *command.split(), "--help"],
            capture_output=True,
            text=True,
        ).stdout
        return {word.rstrip(",") for word in help_text.split() if word.startswith("--")}

    assert options("cut") - {"--output"} == options("batch")
    assert {"--type", "--format", "--workers", "--ray", "--server", "--manifest"} <= options(
        "batch"
    )
    assert "--overwrite" not in options("serve") and "--model-dir" in options("models list")


def test_keep_every_part_keeps_the_smaller_person_apart(tmp_path: Path) -> None:
    photo = tmp_path / "two.jpg"
    photo.write_bytes(images.two_people_apart())
    for flags, kept in (((), False), (("--keep-every-part",), True)):
        out = tmp_path / f"matte-{kept}.png"
        result = cut(str(photo), "-o", str(out), *flags)
        assert result.returncode == 0, result.stderr.decode()
        alpha = np.asarray(Image.open(out))
        small = np.count_nonzero(alpha[images.SMALL_PERSON] >= 128)
        assert bool(small > 0.2 * 300 * 300) is kept, (flags, small)
