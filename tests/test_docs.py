"""README stays true: the CI command, every setting and every error code are documented."""

from __future__ import annotations

import re
from pathlib import Path

from humanseg.errors import ERROR_CODES
from humanseg.settings import Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    test_command = blocks[1].strip()
    assert "pytest" in test_command
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert test_command in ci_lines


def test_first_command_installs_and_serves() -> None:
    first = re.findall(r"```bash\n(.*?)\n```", README, re.S)[0]
    assert "pip install" in first and "humanseg serve" in first


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`HUMANSEG_{name.upper()}`" in README, name
        assert f"`--{name.replace('_', '-')}`" in README, name


def test_every_error_code_is_documented() -> None:
    for code, (status, _) in ERROR_CODES.items():
        assert f"| {status} | `{code}` |" in README, code
