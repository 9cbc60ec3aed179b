"""Inference runtimes behind one tiny interface: ``run(tensor) -> list of outputs``.

LiteRT (TFLite) runs the MediaPipe models; onnxruntime (extra ``[cpu]`` or ``[gpu]``) runs
ONNX models and uses the CUDA provider when the installed build has one.
"""

from __future__ import annotations

import importlib.util
import os
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from humanseg.errors import ErrorCode, error
from humanseg.logs import native_stderr_to_log


def session_threads(requested: int, runtime: str) -> int:
    """Threads for one session: ``requested``, or for 0 (auto) every core for onnxruntime's
    large models and one for LiteRT's small ones (measured with bench/where_time_goes.py:
    U²-Net-p's run 439 → 243 ms on 2 cores; a 4 ms selfie pass is better left to one core, so
    concurrent requests share them)."""
    if requested > 0:
        return requested
    return max(1, os.cpu_count() or 1) if runtime == "onnx" else 1


Feeds = dict[str, np.ndarray]


class Session(Protocol):
    provider: str

    def run(self, tensor: np.ndarray, extra: Feeds | None = None) -> list[np.ndarray]: ...


class LiteRTSession:
    """One TFLite interpreter. Not thread-safe: use through a ``SessionPool``."""

    provider = "litert-cpu"

    def __init__(self, path: Path, *, threads: int) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            try:
                from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]
            except ImportError:
                raise error(
                    ErrorCode.MODEL_UNAVAILABLE,
                    "No TFLite runtime is installed; run `pip install ai-edge-litert`.",
                ) from None
        with native_stderr_to_log():
            self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]

    def run(self, tensor: np.ndarray, extra: Feeds | None = None) -> list[np.ndarray]:
        if extra:
            raise ValueError("LiteRT models take one input")
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(index) for index in self._outputs]


class OpenVinoSession:
    """An ONNX model compiled by OpenVINO for the CPU (extra ``[openvino]``). Not thread-safe
    (one infer request): use through a ``SessionPool``."""

    def __init__(self, path: Path, *, threads: int, output_index: int = 0, precision: str):
        try:
            import openvino
        except ImportError:
            raise error(
                ErrorCode.MODEL_UNAVAILABLE,
                "OpenVINO is not installed; run `pip install 'humanseg[openvino]'` or set "
                "HUMANSEG_ONNX_ENGINE=onnxruntime.",
            ) from None
        core = openvino.Core()
        native = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        precision = precision if precision == "f32" or native else "f32"
        compiled = core.compile_model(
            str(path),
            "CPU",
            {
                "INFERENCE_NUM_THREADS": threads,
                "NUM_STREAMS": 1,
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_PRECISION_HINT": precision,
            },
        )
        self._request = compiled.create_infer_request()
        self._input = compiled.input(0).any_name
        self._output = compiled.output(output_index)
        self.provider = f"openvino-cpu-{precision}"

    def run(self, tensor: np.ndarray, extra: Feeds | None = None) -> list[np.ndarray]:
        # a copy of the output, not a view of the request's buffer: the session goes back to
        # its pool before the caller reads the result
        feeds = {self._input: tensor, **(extra or {})}
        return [self._request.infer(feeds, share_outputs=False)[self._output]]


def onnx_engine(requested: str) -> str:
    """The engine that runs ONNX models for the ``onnx_engine`` setting (``PipelineSettings``)."""
    if requested != "auto":
        return requested
    try:
        import onnxruntime

        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            return "onnxruntime"
    except ImportError:
        pass
    return "openvino" if importlib.util.find_spec("openvino") is not None else "onnxruntime"


class OnnxSession:
    """One onnxruntime session (thread-safe for ``run``), CUDA first when available."""

    def __init__(self, path: Path, *, threads: int, output_index: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise error(
                ErrorCode.MODEL_UNAVAILABLE,
                "onnxruntime is not installed; run `pip install 'humanseg[cpu]'` (or "
                "`'humanseg[gpu]'` for CUDA), or `pip install 'humanseg[openvino]'` with "
                "HUMANSEG_ONNX_ENGINE=auto or openvino.",
            ) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # threads that wait for work sleep instead of spinning, so requests running at the
        # same time on other sessions get the cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        self._session = ort.InferenceSession(str(path), options, providers=providers)
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[output_index].name
        self.provider = self._session.get_providers()[0]

    def run(self, tensor: np.ndarray, extra: Feeds | None = None) -> list[np.ndarray]:
        # Only the output that is read is computed: onnxruntime prunes the rest of the graph.
        return list(self._session.run([self._output], {self._input: tensor, **(extra or {})}))


class SessionPool:
    """Up to ``size`` sessions made on demand, each used by one thread at a time."""

    def __init__(self, factory: Callable[[], Session], size: int) -> None:
        self._factory = factory
        self._idle: queue.LifoQueue[Session] = queue.LifoQueue()
        self._slots = queue.Queue[None](maxsize=size)
        first = factory()  # fail fast, at load time, if the model cannot be opened
        self.provider = first.provider
        self._idle.put(first)
        self._slots.put(None)

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            current = self._idle.get_nowait()
        except queue.Empty:
            try:
                self._slots.put_nowait(None)
            except queue.Full:
                current = self._idle.get()
            else:
                try:
                    current = self._factory()
                except BaseException:
                    self._slots.get_nowait()
                    raise
        try:
            yield current
        finally:
            self._idle.put(current)
