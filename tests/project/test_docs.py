"""The docs stay true: CI runs README's command, the site builds, its tables come from code.

The site is built with ``--strict`` and mkdocs.yml's validation: a broken link or anchor, or a
page left out of the navigation, fails the build.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from humanseg.api.http_errors import STATUS
from humanseg.settings import CONCERNS

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
PAGES = sorted((ROOT / "docs").rglob("*.md"))


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = [block.strip() for block in re.findall(r"```bash\n(.*?)\n```", README, re.S)]
    pytest_blocks = [block for block in blocks if "python -m pytest" in block]
    fast, test_command = pytest_blocks[:2]  # the fast lane first, then the whole suite
    assert fast.endswith('-m pytest -m "not slow"')
    assert test_command.endswith("python -m pytest")
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert test_command in ci_lines


def test_first_command_installs_and_serves() -> None:
    first = re.findall(r"```bash\n(.*?)\n```", README, re.S)[0]
    assert "pip install" in first and "humanseg serve" in first


def test_readme_is_a_front_page() -> None:
    assert len(README.splitlines()) <= 200
    for page in ("api", "settings", "errors", "models", "deployment", "benchmarks"):
        assert f"(docs/{page}.md)" in README, page


@pytest.mark.parametrize("path", [ROOT / "README.md", *PAGES], ids=lambda path: path.name)
def test_no_machine_paths_issue_numbers_or_history(path: Path) -> None:
    text = path.read_text()
    for pattern in (
        r"/work/",
        r"/home/\w",
        r"/tmp/\w",
        r"\bissue \d",
        r"#\d{1,3}\b(?!\w)",
        r"\bthis round\b",
        r"\bearlier round",
        r"\btried and dropped\b",
        r"\b(current|final) code\b",
    ):
        match = re.search(pattern, text, re.I)
        assert match is None, f"{path.name}: {match.group(0)!r}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


@pytest.mark.slow  # builds the site with mkdocs
def test_every_setting_is_in_the_generated_table_of_its_concern(site: Path) -> None:
    page = _text(site / "settings" / "index.html")
    starts = [page.index(f"(humanseg.settings.{kind.__name__})") for kind in CONCERNS.values()]
    ends = [*starts[1:], page.rindex("Memory allocator")]
    for kind, start, end in zip(CONCERNS.values(), starts, ends, strict=True):
        section = page[start:end]
        for name, field in kind.model_fields.items():
            assert f"HUMANSEG_{name.upper()}" in section, name
            assert f"--{name.replace('_', '-')}" in section, name
            assert (field.description or "").split("`")[0][:40] in section, name


@pytest.mark.slow
def test_every_error_code_is_in_the_generated_table(site: Path) -> None:
    page = (site / "errors" / "index.html").read_text()
    for code, status in STATUS.items():
        assert re.search(rf"<td>{status}</td>\s*<td><code>{code.value}</code></td>", page), code
