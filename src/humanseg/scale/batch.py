"""Run a batch job: list the source, skip what the manifest says is done, process the rest.

The runner (local process pool or Ray) hands finished entries back here, in this process,
which is the only writer of the manifest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from tqdm import tqdm

from humanseg.errors import ErrorCode, error
from humanseg.models.fusion import REVIEW_BELOW
from humanseg.scale.job import BatchJob
from humanseg.scale.manifest import Entry, Manifest
from humanseg.scale.storage import LocalStorage, S3Storage, Storage, open_storage, output_key

Runner = Callable[[BatchJob, list[str]], Iterator[Entry]]
MAX_REPORTED = 20


@dataclass
class Summary:
    listed: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    manifest: Path | None = None
    failures: list[Entry] = field(default_factory=list)  # the first MAX_REPORTED, for people
    doubtful: int = 0  # results whose confidence is under REVIEW_BELOW
    doubtful_keys: list[str] = field(default_factory=list)  # the first MAX_REPORTED of them


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
                Entry(key, "failed", code=ErrorCode.INVALID_REQUEST, message=message)
                for key in group
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
    inside = nested_prefix(source, destination)
    if inside == "":
        raise error(
            ErrorCode.INVALID_REQUEST, "The destination is the source; write the results elsewhere."
        )
    keys = [
        key for key in source.list_keys(settings.sources) if not (inside and key.startswith(inside))
    ]
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
            for entry in chain(collisions, runner(job, todo) if todo else ()):
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
                bar.update()
                bar.set_postfix(failed=summary.failed, refresh=False)
        finally:
            bar.close()
            destination.clean_temporaries()
    return summary


def nested_prefix(source: Storage, destination: Storage) -> str | None:
    """Where the destination lies inside the source, as a key prefix ("" if it is the source),
    so that earlier outputs are never listed as inputs; None if it lies elsewhere."""
    if isinstance(source, LocalStorage) and isinstance(destination, LocalStorage):
        if not destination.root.is_relative_to(source.root):
            return None
        relative = destination.root.relative_to(source.root).as_posix()
        return "" if relative == "." else f"{relative}/"
    if (
        isinstance(source, S3Storage)
        and isinstance(destination, S3Storage)
        and source.bucket == destination.bucket
        and destination.prefix.startswith(source.prefix)
    ):
        return destination.prefix[len(source.prefix) :]
    return None
