"""The remote runner: each image is sent to a humanseg server through ``humanseg.Client``,
``workers`` requests at a time; this process reads the inputs and writes the results.

A clip goes to the server's video jobs API (``Client.submit_video``): submitted, waited for,
and its result downloaded into the sink's scratch space and handed over whole."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path, PurePosixPath

from humanseg.client import Client
from humanseg.fileio import is_video_name
from humanseg.jobs.manifest import Entry
from humanseg.jobs.plan import Item
from humanseg.jobs.video import MEDIA_TYPES
from humanseg.jobs.worker import Task, done, failure


def run_remote(
    task: Task, items: list[Item], *, server: str, api_key: str | None, workers: int
) -> Iterator[Entry]:
    """Yield one entry per item, in completion order."""
    fields = task.request.client_fields()

    def process(client: Client, item: Item) -> Entry:
        try:
            if is_video_name(item.key):
                return remote_clip(client, task, item)
            data = item.read(task.settings.sources)
            result = client.segment(data, task.request.type or None, model=task.model, **fields)
            task.sink.write(item.output, bytes(result), result.media_type, task.settings.sources)
        except Exception as exc:  # one bad image never stops the job
            return failure(item, exc)
        return done(item, result.confidence)

    pending = iter(items)
    with Client(server, api_key) as client, ThreadPoolExecutor(workers) as executor:
        in_flight: set[Future[Entry]] = set()
        try:
            while True:
                for item in pending:
                    in_flight.add(executor.submit(process, client, item))
                    if len(in_flight) >= 2 * workers:
                        break
                if not in_flight:
                    return
                completed, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in completed:
                    yield future.result()
        finally:
            for future in in_flight:
                future.cancel()


def remote_clip(client: Client, task: Task, item: Item) -> Entry:
    """One clip through the server's video jobs: submitted, waited for, downloaded whole."""
    suffix = PurePosixPath(item.output).suffix
    job = client.submit_video(
        item.read(task.settings.sources),
        task.video.video_kind(task.request).value,  # type: ignore[arg-type]
        model=task.model,
        format=suffix.removeprefix(".") if suffix != ".zip" else None,  # type: ignore[arg-type]
        bg_color=task.request.bg_color,
        blur_strength=task.request.blur_strength,
    ).wait()
    sink = task.sink
    with tempfile.TemporaryDirectory(prefix=".humanseg-video-", dir=sink.scratch()) as scratch:
        result = job.download(Path(scratch) / f"result{suffix}")
        media_type = MEDIA_TYPES.get(suffix, "application/octet-stream")
        sink.write_file(item.output, result, media_type, task.settings.sources)
    job.cancel()  # a finished job: its result is deleted from the server
    return done(item, None)
