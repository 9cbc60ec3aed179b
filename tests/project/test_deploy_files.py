"""The container and serverless files stay in step with the code (they are not built in CI)."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

from humanseg.settings import PipelineSettings

ROOT = Path(__file__).parents[2]
DOCKERFILES = ["Dockerfile", "Dockerfile.gpu"]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_copies_what_exists_and_pulls_the_default_model(name: str) -> None:
    text = (ROOT / name).read_text()
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, _destination = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"{name}: COPY {source}"
    assert re.search(r"^ARG MODEL=(\S+)$", text, re.M).group(1) == PipelineSettings().model
    assert 'humanseg models pull "${MODEL}"' in text
    assert "HUMANSEG_HOST=0.0.0.0" in text
    assert re.search(r'^CMD \["serve"\]$', text, re.M)


def test_gpu_image_installs_the_cuda_build_of_onnxruntime() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(requirement.startswith("onnxruntime-gpu") for requirement in extras["gpu"])
    installs = re.search(
        r'pip install "/build\[([a-z,]+)\]"', (ROOT / "Dockerfile.gpu").read_text()
    )
    assert installs is not None and "gpu" in installs.group(1).split(",")
    assert "cpu" not in installs.group(1).split(",")  # never both onnxruntime builds


def test_lambda_stage_names_a_real_handler() -> None:
    text = (ROOT / "Dockerfile").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(requirement.startswith("mangum") for requirement in extras["lambda"])
    assert 'pip install "/build[lambda]"' in text
    handler = re.search(r'^CMD \["(humanseg\.[\w.]+)"\]$', text, re.M).group(1)
    module, _, function = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored and "test-artifacts" in ignored
