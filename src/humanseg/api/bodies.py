"""Request bodies as the routes take them: a JSON object, or form fields with uploaded files."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.datastructures import UploadFile

from humanseg.errors import ErrorCode, HumansegError, error


def json_object(body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object, else ``invalid_json``."""
    try:
        payload = orjson.loads(body)  # nesting over 1024 levels: an error
    except orjson.JSONDecodeError:
        raise error(ErrorCode.INVALID_JSON, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise error(ErrorCode.INVALID_JSON, "The request body must be a JSON object.")
    return payload


async def json_or_form(
    request: Request, *, max_files: int, max_fields: int, not_a_form: str
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The body's fields and uploaded files (by field name): a JSON object (no files) when the
    content type says JSON, else a multipart or url-encoded form, each part under the body
    limit. A body that is neither is ``invalid_request`` with ``not_a_form`` as its message."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        return json_object(await request.body()), {}
    try:
        limit = request.app.state.service.settings.access.max_body_bytes
        form = await request.form(max_files=max_files, max_fields=max_fields, max_part_size=limit)
    except HumansegError:
        raise
    except Exception:
        raise error(ErrorCode.INVALID_REQUEST, not_a_form) from None
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[name] = await value.read()
            else:
                fields[name] = value
    finally:
        await form.close()
    return fields, files
