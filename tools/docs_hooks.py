"""MkDocs hook: the settings and error tables are generated from the code when the site builds.

A page asks for a table with a marker line, ``<!-- table: settings -->`` or
``<!-- table: errors -->``; the marker is replaced by the table, so the docs cannot drift from
the settings classes of ``humanseg.settings`` (a table per concern), the error codes
``humanseg.errors.ErrorCode`` with their descriptions, and the statuses the HTTP layer gives
them (``humanseg.api.http_errors``).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from pydantic_core import PydanticUndefined

from humanseg.api.http_errors import HEADERS, STATUS
from humanseg.errors import ErrorCode
from humanseg.settings import CONCERNS, setting_fields

_MARKER = re.compile(r"^<!-- table: (\w+) -->$", re.M)


def _default(name: str) -> str:
    field = setting_fields()[name]
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
    """A section per concern: what it covers (its module's summary), its class, and a row per
    setting."""
    sections = []
    for concern, kind in CONCERNS.items():
        summary = (sys.modules[kind.__module__].__doc__ or "").strip().splitlines()[0]
        rows = [
            f"## {concern.capitalize()}",
            "",
            f"{summary.rstrip('.')} (`humanseg.settings.{kind.__name__}`).",
            "",
            "| Environment variable | `humanseg serve` flag | Default | Meaning |",
            "|---|---|---|---|",
        ]
        for name, field in kind.model_fields.items():
            rows.append(
                f"| `HUMANSEG_{name.upper()}` | `--{name.replace('_', '-')}` | {_default(name)} "
                f"| {_cell(field.description or '')} |"
            )
        sections.append("\n".join(rows))
    return "\n\n".join(sections)


def errors_table() -> str:
    rows = ["| Status | Code | When |", "|---|---|---|"]
    for code in sorted(ErrorCode, key=lambda code: STATUS[code]):  # stable: registry order
        headers = ", ".join(f"`{name}`" for name in HEADERS.get(code, {}))
        with_headers = f" (with {headers})" if headers else ""
        rows.append(
            f"| {STATUS[code]} | `{code.value}` | {_cell(code.description)}{with_headers} |"
        )
    return "\n".join(rows)


TABLES = {"settings": settings_table, "errors": errors_table}


def on_page_markdown(markdown: str, **_: Any) -> str:
    return _MARKER.sub(lambda match: TABLES[match.group(1)](), markdown)
