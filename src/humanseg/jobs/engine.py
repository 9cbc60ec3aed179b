"""Run a planned job: skip what is done, hand the rest to a runner, record every outcome.

The runner (this process, the process pool, Ray or a remote server) hands finished entries
back here, in this process, which is the only writer of the manifest.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from tqdm import tqdm

from humanseg.jobs.manifest import Entry, Manifest
from humanseg.jobs.plan import Item, Plan
from humanseg.jobs.sinks import OutputFile, Sink
from humanseg.models.fusion import REVIEW_BELOW

Runner = Callable[[list[Item]], Iterator[Entry]]
MAX_REPORTED = 20


@dataclass
class Summary:
    listed: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    seconds: float = 0.0
    manifest: Path | None = None
    failures: list[Entry] = field(default_factory=list)  # the first MAX_REPORTED, for people
    doubtful: int = 0  # results whose confidence is under REVIEW_BELOW
    doubtful_keys: list[str] = field(default_factory=list)  # the first MAX_REPORTED of them


def run_job(
    plan: Plan,
    sink: Sink,
    runner: Runner,
    *,
    manifest: Manifest | None,
    overwrite: bool = False,
    progress: bool = True,
    unit: str = "img",
    on_failure: Callable[[Entry], None] = lambda _entry: None,
) -> Summary:
    """Process ``plan``'s items that are not done yet; ``manifest`` (for a folder or prefix)
    says which are done and records each outcome."""
    started = time.monotonic()
    summary = Summary(manifest=manifest.path if manifest else None)
    summary.listed = len(plan.items) + len(plan.failed)
    todo = [item for item in plan.items if overwrite or not is_done(item, sink, manifest)]
    summary.skipped = len(plan.items) - len(todo)
    bar = tqdm(
        total=summary.listed,
        initial=summary.skipped,
        unit=unit,
        disable=not progress,
        smoothing=0.1,
        file=sys.stderr,
    )
    try:
        for entry in chain(plan.failed, runner(todo) if todo else ()):
            if manifest is not None:
                manifest.record(entry)
            if entry.status == "done":
                summary.done += 1
                if entry.confidence is not None and entry.confidence < REVIEW_BELOW:
                    summary.doubtful += 1
                    if len(summary.doubtful_keys) < MAX_REPORTED:
                        summary.doubtful_keys.append(entry.key)
            else:
                summary.failed += 1
                if len(summary.failures) < MAX_REPORTED:
                    summary.failures.append(entry)
                on_failure(entry)
            bar.update()
            bar.set_postfix(failed=summary.failed, refresh=False)
    finally:
        bar.close()
        sink.clean_temporaries()
        summary.seconds = time.monotonic() - started
    return summary


def is_done(item: Item, sink: Sink, manifest: Manifest | None) -> bool:
    if manifest is not None:
        return item.key in manifest.done
    return isinstance(sink, OutputFile) and sink.path.exists()
