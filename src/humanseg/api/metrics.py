"""Prometheus metrics of one server process, served at ``GET /metrics``.

With several worker processes (``HUMANSEG_WORKERS`` > 1) ``humanseg serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a private folder so that ``/metrics`` adds up every worker.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter(
    "humanseg_requests",
    "HTTP requests answered, by route, status and error code (empty on success).",
    ["method", "route", "status", "code"],
)
LATENCY = Histogram(
    "humanseg_request_duration_seconds",
    "Time from the request's arrival to its last response byte.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
PIPELINE_TIME = Histogram(
    "humanseg_pipeline_seconds",
    "Time in the core pipeline for one image (decode, model, matte, compose, encode).",
    ["model"],
    buckets=_LATENCY_BUCKETS,
)
MODEL_TIME = Histogram(
    "humanseg_model_seconds",
    "Time in the model's inference alone for one image.",
    ["model"],
    buckets=_LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(
    "humanseg_in_flight",
    "Requests whose image work is running on a worker thread now.",
    multiprocess_mode="livesum",
)
QUEUE_DEPTH = Gauge(
    "humanseg_queue_depth",
    "Admitted requests not running on a worker thread (waiting or answering).",
    multiprocess_mode="livesum",
)

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics() -> Response:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
