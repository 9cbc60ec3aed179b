"""Log lines as JSON objects (or plain text), each with the id of the request it belongs to."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The id of the request being served; set by the HTTP layer, copied into worker threads.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "humanseg_request_id", default=None
)

# LogRecord attributes that are not extra fields given by the caller.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        line = json.dumps(entry, default=str, ensure_ascii=False)  # C0 escaped by json
        return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", line)


# C0 and C1 control characters, DEL and the Unicode line and paragraph separators: anything
# that could end a log line or rewrite a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``...)."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


_NATIVE_LOCK = threading.Lock()
native_log = logging.getLogger("humanseg.native")


@contextmanager
def native_stderr_to_log(logger: logging.Logger = native_log) -> Iterator[None]:
    """Lines native code writes to file descriptor 2 meanwhile become log records.

    LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." straight to fd 2
    when an interpreter allocates its tensors, past Python's logging, which breaks JSON log
    streams and progress bars. ``INFO:`` lines are logged at debug level, others as warnings.
    """
    with _NATIVE_LOCK, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for raw in captured.read().decode(errors="replace").splitlines():
                line = raw.strip()
                if line:
                    level = logging.DEBUG if line.startswith("INFO:") else logging.WARNING
                    logger.log(level, line)


class TextFormatter(logging.Formatter):
    """One line per record: what the caller sent (a path, a header) cannot start another."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def log_config(level: str, fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and humanseg (uvicorn's access log is off:
    humanseg writes its own access line, with the request id, status and error code)."""
    formatter = "humanseg.logs.JsonFormatter" if fmt == "json" else "humanseg.logs.TextFormatter"
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "humanseg.logs.RequestIdFilter"}},
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "humanseg": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }
