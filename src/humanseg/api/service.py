"""Per-process state of the HTTP app: the pipeline, its readiness and the worker threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

from humanseg.errors import HumansegError, error
from humanseg.pipeline import Pipeline
from humanseg.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class Service:
    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline or Pipeline(settings)
        self._limiter: CapacityLimiter | None = None
        self._ready = threading.Event()
        self.load_error: HumansegError | None = None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def load(self) -> None:
        """Pull (if needed), load and warm up the default model. Runs in a background thread."""
        try:
            self.pipeline.load()
        except HumansegError as exc:
            self.load_error = exc
            log.error("model %s could not be loaded: %s", self.settings.model, exc.message)
            return
        except Exception as exc:
            self.load_error = error("model_unavailable", f"The model failed to load: {exc}.")
            log.exception("model %s could not be loaded", self.settings.model)
            return
        self._ready.set()
        log.info("model %s loaded and warmed up", self.settings.model)

    def start_loading(self) -> threading.Thread:
        thread = threading.Thread(target=self.load, name="humanseg-model-load", daemon=True)
        thread.start()
        return thread

    def require_ready(self) -> None:
        if self.ready:
            return
        if self.load_error is not None:
            raise self.load_error
        raise error(
            "not_ready",
            "The model is still loading; retry in a few seconds.",
            headers={"Retry-After": "5"},
        )

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run CPU-heavy work on a worker thread, at most ``max_concurrency`` at once."""
        if self._limiter is None:
            self._limiter = CapacityLimiter(self.settings.max_concurrency)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)

    def readiness(self) -> dict[str, object]:
        if self.ready:
            models = {
                name: {"provider": segmenter.provider, "runtime": segmenter.spec.runtime}
                for name, segmenter in self.pipeline.registry.loaded().items()
            }
            return {"status": "ready", "default_model": self.settings.model, "models": models}
        if self.load_error is not None:
            return {"status": "failed", **self.load_error.to_dict()}
        return {"status": "loading", "default_model": self.settings.model}
