"""Batch work for ``humanseg cut``: which files to read, where results go, and how to run them.

Every image goes through ``Pipeline.process`` (in worker processes, each building its own
pipeline once) or, against a remote server, through ``humanseg.Client``; nothing here
re-implements a step of the core.
"""

from __future__ import annotations

import glob
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from humanseg import allocator
from humanseg.errors import ErrorCode, HumansegError
from humanseg.fileio import check_key, is_image_name, write_atomic
from humanseg.pipeline import OutputSpec, OutputType, Pipeline, parse_output_spec
from humanseg.settings import PipelineSettings

if TYPE_CHECKING:
    from humanseg.client import Client

_GLOB_CHARS = frozenset("*?[")


# An output file name given for a single input picks the encoding by its suffix.
FORMAT_BY_SUFFIX = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path
    format: str | None = None  # None: PNG


@dataclass(frozen=True)
class Outcome:
    job: Job
    error: str | None = None  # one line for people; None when the output was written
    confidence: float | None = None  # the pipeline's estimate of the result's quality


@dataclass
class Plan:
    jobs: list[Job]
    problems: list[str]  # inputs that name nothing, or collide with another input's output


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _excluder(root: Path, out_dir: Path) -> Callable[[Path], bool]:
    """Skip the output folder when it lies below an input root, so outputs are not read back."""
    if _inside(root, out_dir):  # the input is the output folder or below it: read it all
        return lambda _path: False
    return lambda path: _inside(path, out_dir)


def _glob_root(pattern: str) -> Path:
    parts = Path(pattern).parts
    literal = [part for part in itertools.takewhile(lambda p: not _GLOB_CHARS & set(p), parts)]
    return Path(*literal) if literal else Path(".")


def _folder_files(folder: Path, out_dir: Path) -> Iterator[tuple[Path, Path]]:
    """(file, its path relative to ``folder``) for every image below it, outputs excluded."""
    excluded = _excluder(folder, out_dir)
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not excluded(root_path / d))
        for name in sorted(files):
            path = root_path / name
            if is_image_name(path) and not name.startswith("."):
                yield path, path.relative_to(folder)


def plan(inputs: Sequence[str], out: Path) -> Plan:
    """Expand files, folders (recursively) and globs into jobs writing under ``out``.

    A folder keeps its tree under ``out``; a file or glob match lands directly in ``out``.
    A single file input with an image file name as output (``.png``, ``.jpg``, ``.webp``) is
    written to that name, encoded as its suffix says.
    """
    single_file = len(inputs) == 1 and Path(inputs[0]).is_file()
    named = out.suffix.lower() in FORMAT_BY_SUFFIX or is_image_name(out)
    if single_file and named and not out.is_dir():
        encoding = FORMAT_BY_SUFFIX.get(out.suffix.lower())
        if encoding is None:
            return Plan([], [f"{out}: cannot write {out.suffix} files; name a .png, .jpg or .webp"])
        return Plan([Job(Path(inputs[0]), out, encoding)], [])

    jobs: list[Job] = []
    problems: list[str] = []
    targets: dict[Path, Path] = {}
    seen: set[Path] = set()

    def add(source: Path, relative: Path) -> None:
        key = source.resolve()
        if key in seen:
            return
        seen.add(key)
        try:
            target = out / check_key(relative.with_suffix(".png").as_posix())
        except HumansegError as exc:
            problems.append(f"{source}: {exc.message}")
            return
        if target in targets:
            problems.append(f"{source}: same output name as {targets[target]} ({target})")
            return
        targets[target] = source
        jobs.append(Job(source, target))

    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for source, relative in _folder_files(path, out):
                add(source, relative)
        elif path.is_file():
            add(path, Path(path.name))
        elif _GLOB_CHARS & set(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                problems.append(f"{item}: no file matches")
            excluded = _excluder(_glob_root(item), out)
            for match in matches:
                match_path = Path(match)
                if match_path.is_dir():
                    for source, relative in _folder_files(match_path, out):
                        add(source, relative)
                elif match_path.is_file() and not excluded(match_path):
                    add(match_path, Path(match_path.name))
        else:
            problems.append(f"{item}: no such file or folder")
    return Plan(jobs, problems)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HumansegError):
        return f"[{exc.code}] {exc.message}"
    if isinstance(exc, OSError):
        return f"[io_error] {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    return f"[{ErrorCode.INTERNAL_ERROR}] {type(exc).__name__}: {exc}"


# --- in-process runs: one Pipeline per worker process, built once --------------------------

_pipeline: Pipeline | None = None
_options: tuple[OutputType, str | None] = (OutputType.ALPHA, None)


def _init_worker(settings: PipelineSettings, output_type: OutputType, model: str | None) -> None:
    global _pipeline, _options
    allocator.tune_process("cut worker")
    _pipeline = Pipeline(settings, concurrency=1)
    _options = (output_type, model)


def _run_local(job: Job) -> Outcome:
    assert _pipeline is not None, "worker not initialised"
    output_type, model = _options
    try:
        output = job_output(job, output_type)
        result = _pipeline.process(job.source.read_bytes(), output, model=model)
        write_atomic(job.target, result.data)
    except Exception as exc:  # one bad image never stops the batch
        return Outcome(job, _describe(exc))
    return Outcome(job, confidence=result.confidence)


def worker_settings(settings: PipelineSettings, workers: int) -> PipelineSettings:
    """Share the cores between worker processes instead of oversubscribing them."""
    threads = max(1, (settings.inference_threads or os.cpu_count() or 1) // workers)
    return settings.model_copy(update={"inference_threads": threads})


def local_executor(
    settings: PipelineSettings, workers: int, output_type: OutputType, model: str | None
) -> Executor:
    # forkserver: workers fork from a clean single-threaded process that has already imported
    # the core, so they start fast without forking this (threaded) process
    context = get_context("forkserver")
    context.set_forkserver_preload(["humanseg.cut_jobs"])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(worker_settings(settings, workers), output_type, model),
    )


def run_local_inline(
    jobs: Iterable[Job], settings: PipelineSettings, output_type: OutputType, model: str | None
) -> Iterator[Outcome]:
    """One worker: run in this process, no pool to start."""
    _init_worker(settings, output_type, model)
    for job in jobs:
        yield _run_local(job)


def submit_local(executor: Executor, jobs: Iterable[Job]) -> list[Future[Outcome]]:
    return [executor.submit(_run_local, job) for job in jobs]


# --- remote runs through the client -------------------------------------------------------


def wire_type(output_type: OutputType) -> str:
    """The seed API's spelling: the alpha matte is an empty ``type``."""
    return "" if output_type is OutputType.ALPHA else output_type.value


def job_output(job: Job, output_type: OutputType) -> OutputType | OutputSpec:
    """What to make for ``job``: the type alone, or with the encoding its file name asks for."""
    if job.format is None:
        return output_type
    return parse_output_spec(wire_type(output_type) or None, format=job.format)


def submit_remote(
    executor: ThreadPoolExecutor,
    jobs: Iterable[Job],
    client: Client,
    output_type: OutputType,
    model: str | None,
) -> list[Future[Outcome]]:
    def run(job: Job) -> Outcome:
        try:
            data = client.segment(
                job.source, wire_type(output_type), model=model, format=job.format
            )
            write_atomic(job.target, data)
        except Exception as exc:
            return Outcome(job, _describe(exc))
        return Outcome(job, confidence=data.confidence)

    return [executor.submit(run, job) for job in jobs]
