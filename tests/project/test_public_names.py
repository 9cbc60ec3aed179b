"""The package's public names, and what a server worker imports before it answers uvicorn."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import humanseg
from humanseg.api.factory import AppFactory
from humanseg.settings import load_settings


def test_every_public_name_resolves() -> None:
    for name in humanseg.__all__:
        assert getattr(humanseg, name) is not None, name


@pytest.mark.slow  # a fresh interpreter
def test_a_worker_unpickles_its_app_factory_without_importing_the_app() -> None:
    factory = AppFactory.of(load_settings(port=8123))
    script = (
        "import pickle, sys; factory = pickle.loads(sys.stdin.buffer.read()); "
        "heavy = [m for m in ('fastapi', 'humanseg.pipeline', 'pydantic') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps(factory),
        capture_output=True,
        check=True,
    )
    assert result.stdout.decode().strip() == "[]"
    app = factory()  # the settings arrive whole
    assert app.state.service.settings.server.port == 8123
