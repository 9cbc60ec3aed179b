"""Run a batch job: list the source, skip what the manifest says is done, process the rest.

The runner (local process pool or Ray) hands finished entries back here, in this process,
which is the only writer of the manifest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from humanseg.scale.job import BatchJob
from humanseg.scale.manifest import Entry, Manifest
from humanseg.scale.storage import open_storage, output_key

Runner = Callable[[BatchJob, list[str]], Iterator[Entry]]


@dataclass
class Summary:
    listed: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    manifest: Path | None = None


def plan(
    keys: Iterable[str], manifest: Manifest, *, overwrite: bool
) -> tuple[list[str], list[Entry]]:
    """Keys to process now, and keys that fail up front because their outputs would collide."""
    by_output: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_output[output_key(key)].append(key)
    todo: list[str] = []
    collisions: list[Entry] = []
    for target, group in by_output.items():
        if len(group) > 1:
            message = f"{' and '.join(group)} would all be written to {target}; rename one."
            collisions += [
                Entry(key, "failed", code="invalid_request", message=message) for key in group
            ]
        elif overwrite or group[0] not in manifest.done:
            todo.append(group[0])
    return todo, collisions


def run_batch(
    job: BatchJob,
    runner: Runner,
    *,
    manifest_path: Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Summary:
    source = open_storage(job.source)
    destination = open_storage(job.destination)
    settings = job.build_settings()
    summary = Summary(manifest=manifest_path or job.default_manifest())
    keys = list(source.list_keys(settings))
    summary.listed = len(keys)
    with Manifest(summary.manifest) as manifest:
        todo, collisions = plan(keys, manifest, overwrite=overwrite)
        summary.skipped = len(keys) - len(todo) - len(collisions)
        bar = tqdm(
            total=len(keys),
            initial=summary.skipped,
            unit="img",
            disable=not progress,
            smoothing=0.1,
        )
        try:
            for entry in _chain(collisions, runner(job, todo) if todo else iter(())):
                manifest.record(entry)
                if entry.status == "done":
                    summary.done += 1
                else:
                    summary.failed += 1
                bar.update()
                bar.set_postfix(failed=summary.failed, refresh=False)
        finally:
            bar.close()
            destination.clean_temporaries()
    return summary


def _chain(first: list[Entry], rest: Iterator[Entry]) -> Iterator[Entry]:
    yield from first
    yield from rest
