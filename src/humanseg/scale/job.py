"""One batch job: what to read, what to write, and the work done for each key.

The same ``Worker.process`` runs in a local process pool and in a Ray actor; it reads the
image, runs the core ``Pipeline.process`` and writes the result atomically.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humanseg.errors import ErrorCode, HumansegError
from humanseg.pipeline import OutputType, Pipeline
from humanseg.scale.manifest import Entry
from humanseg.scale.storage import LocalStorage, Storage, open_storage, output_key
from humanseg.settings import Settings, load_settings

log = logging.getLogger(__name__)
MANIFEST_NAME = ".humanseg-batch.jsonl"


@dataclass(frozen=True)
class BatchJob:
    source: str
    destination: str
    output: OutputType = OutputType.ALPHA
    model: str | None = None
    # Settings given explicitly (env or flags); each worker builds its own Settings from them,
    # so defaults such as the model folder are those of the machine the worker runs on.
    settings: dict[str, Any] = field(default_factory=dict)

    def build_settings(self, **extra: Any) -> Settings:
        return load_settings(**{**self.settings, **extra})

    def default_manifest(self) -> Path:
        """Next to the outputs for a local destination; in the working folder for S3."""
        destination = open_storage(self.destination)
        if isinstance(destination, LocalStorage):
            return destination.root / MANIFEST_NAME
        digest = hashlib.sha256(str(destination).encode()).hexdigest()[:12]
        return Path.cwd() / f".humanseg-batch-{digest}.jsonl"


class Worker:
    """Holds one Pipeline (one model session) for its whole life; processes keys one by one."""

    def __init__(self, job: BatchJob, settings: Settings) -> None:
        self.job = job
        self.settings = settings
        self.source: Storage = open_storage(job.source)
        self.destination: Storage = open_storage(job.destination)
        self.pipeline = Pipeline(settings.pipeline, concurrency=1)
        self.pipeline.load(job.model)

    def process(self, key: str) -> Entry:
        target = output_key(key)
        try:
            data = self.source.read(key, self.settings.sources)
            result = self.pipeline.process(data, self.job.output, model=self.job.model)
            self.destination.write(target, result.data, self.settings.sources)
        except HumansegError as exc:
            return Entry(key, "failed", code=exc.code, message=exc.message)
        except Exception as exc:  # one bad key must not stop the job
            if not isinstance(exc, OSError):  # unreadable files need no traceback
                log.exception("unexpected failure on %s", key)
            message = f"{type(exc).__name__}: {exc}"
            return Entry(key, "failed", code=ErrorCode.INTERNAL_ERROR, message=message)
        confidence = None if result.confidence is None else round(result.confidence, 3)
        return Entry(key, "done", output=target, confidence=confidence)
