"""The remote runner: each image is sent to a humanseg server through ``humanseg.Client``,
``workers`` requests at a time; this process reads the inputs and writes the results.

Clips are not sent: each is a failed entry that says to run the job without ``--server``."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from humanseg.client import Client
from humanseg.errors import ErrorCode, error
from humanseg.fileio import is_video_name
from humanseg.jobs.manifest import Entry
from humanseg.jobs.plan import Item
from humanseg.jobs.worker import Task, done, failure


def run_remote(
    task: Task, items: list[Item], *, server: str, api_key: str | None, workers: int
) -> Iterator[Entry]:
    """Yield one entry per item, in completion order."""
    fields = task.request.client_fields()

    def process(client: Client, item: Item) -> Entry:
        try:
            if is_video_name(item.key):
                raise error(
                    ErrorCode.UNSUPPORTED_VIDEO_FORMAT,
                    "Videos are not sent to a server; run the job without --server.",
                )
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
