"""MkDocs hook: the settings and error tables are generated from the code when the site builds.

A page asks for a table with a marker line, ``<!-- table: settings -->`` or
``<!-- table: errors -->``; the marker is replaced by the table, so the docs cannot drift from
``humanseg.settings.Settings`` and the error registry ``humanseg.errors.ERROR_CODES``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import PydanticUndefined

from humanseg.errors import ERROR_CODES
from humanseg.settings import Settings

_MARKER = re.compile(r"^<!-- table: (\w+) -->$", re.M)


def _default(name: str) -> str:
    field = Settings.model_fields[name]
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        # a machine-dependent default (CPU count, cache folder) is explained in the meaning
        return "empty" if value == [] else "computed (see meaning)"
    if field.default is PydanticUndefined:
        return "required"
    value = field.default
    if value is None or value == []:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table() -> str:
    rows = [
        "| Environment variable | `humanseg serve` flag | Default | Meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        rows.append(
            f"| `HUMANSEG_{name.upper()}` | `--{name.replace('_', '-')}` | {_default(name)} "
            f"| {_cell(field.description or '')} |"
        )
    return "\n".join(rows)


def errors_table() -> str:
    rows = ["| Status | Code | When |", "|---|---|---|"]
    for code, (status, message) in sorted(ERROR_CODES.items(), key=lambda item: item[1][0]):
        rows.append(f"| {status} | `{code}` | {_cell(message)} |")
    return "\n".join(rows)


TABLES = {"settings": settings_table, "errors": errors_table}


def on_page_markdown(markdown: str, **_: Any) -> str:
    return _MARKER.sub(lambda match: TABLES[match.group(1)](), markdown)
