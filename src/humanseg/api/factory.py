"""The app each server worker process builds, from the settings the starting process read.

uvicorn sends its config to every worker process pickled, and a worker must unpickle it and
answer uvicorn's health check within seconds, before it imports the app (several seconds on
a busy machine). So the factory carries the settings as pickled bytes and nothing of the app:
both are loaded only when uvicorn calls it.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from humanseg.settings import Settings


@dataclass(frozen=True)
class AppFactory:
    settings: bytes  # a pickled ``humanseg.settings.Settings``

    @classmethod
    def of(cls, settings: Settings) -> AppFactory:
        return cls(pickle.dumps(settings))

    def __call__(self) -> FastAPI:
        from humanseg.api.app import create_app

        return create_app(pickle.loads(self.settings))
