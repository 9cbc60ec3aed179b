"""Settings by concern: the same HUMANSEG_* names, built from the environment plus overrides
without writing the environment, and handed on to another process as explicit values."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from humanseg.settings import (
    CONCERNS,
    AccessSettings,
    InvalidSettings,
    PipelineSettings,
    Settings,
    load_settings,
    setting_fields,
)

# Every variable users may have set; a rename would silently drop their configuration.
ENVIRONMENT_NAMES = {
    "HUMANSEG_ALLOWED_HOSTS",
    "HUMANSEG_API_KEYS",
    "HUMANSEG_API_KEYS_FILE",
    "HUMANSEG_AUTH",
    "HUMANSEG_CLIENT_TIMEOUT",
    "HUMANSEG_HOST",
    "HUMANSEG_INFERENCE_THREADS",
    "HUMANSEG_KEEP_EVERY_PART",
    "HUMANSEG_KEEPALIVE_TIMEOUT",
    "HUMANSEG_LOG_FORMAT",
    "HUMANSEG_LOG_LEVEL",
    "HUMANSEG_MAX_BASE64_CHARS",
    "HUMANSEG_MAX_BODY_BYTES",
    "HUMANSEG_MAX_CONCURRENCY",
    "HUMANSEG_MAX_DOWNLOAD_BYTES",
    "HUMANSEG_MAX_HEADER_BYTES",
    "HUMANSEG_MAX_HEADER_COUNT",
    "HUMANSEG_MAX_IMAGE_PIXELS",
    "HUMANSEG_MAX_IMAGE_SIDE",
    "HUMANSEG_MAX_JPEG_SCANS",
    "HUMANSEG_MAX_QUEUE",
    "HUMANSEG_MAX_REQUEST_LINE",
    "HUMANSEG_MAX_UPLOADS",
    "HUMANSEG_MIN_UPLOAD_RATE",
    "HUMANSEG_MODEL",
    "HUMANSEG_MODEL_DIR",
    "HUMANSEG_MODELS",
    "HUMANSEG_ONNX_ENGINE",
    "HUMANSEG_OPENVINO_PRECISION",
    "HUMANSEG_PARALLEL_PASSES",
    "HUMANSEG_PNG_COMPRESS_LEVEL",
    "HUMANSEG_PNG_FAST",
    "HUMANSEG_PORT",
    "HUMANSEG_PULL_ON_REQUEST",
    "HUMANSEG_RAY_ADDRESS",
    "HUMANSEG_RAY_MAX_REPLICAS",
    "HUMANSEG_RAY_MIN_REPLICAS",
    "HUMANSEG_RAY_NUM_CPUS",
    "HUMANSEG_RAY_NUM_GPUS",
    "HUMANSEG_RAY_TARGET_ONGOING_REQUESTS",
    "HUMANSEG_REFINE_EDGES",
    "HUMANSEG_REQUEST_TIMEOUT",
    "HUMANSEG_S3_ALLOWED_BUCKETS",
    "HUMANSEG_S3_ENDPOINT_URL",
    "HUMANSEG_URL_ALLOWLIST",
    "HUMANSEG_URL_CONNECT_TIMEOUT",
    "HUMANSEG_URL_MAX_REDIRECTS",
    "HUMANSEG_URL_READ_TIMEOUT",
    "HUMANSEG_URL_SOURCES",
    "HUMANSEG_URL_TOTAL_TIMEOUT",
    "HUMANSEG_VIDEO_H264",
    "HUMANSEG_VIDEO_JOBS_DIR",
    "HUMANSEG_VIDEO_JOB_CONCURRENCY",
    "HUMANSEG_VIDEO_JOB_QUEUE",
    "HUMANSEG_VIDEO_JOB_RETENTION",
    "HUMANSEG_VIDEO_MAX_BYTES",
    "HUMANSEG_VIDEO_MAX_FRAMES",
    "HUMANSEG_VIDEO_MAX_SECONDS",
    "HUMANSEG_VIDEO_MAX_SIDE",
    "HUMANSEG_VIDEO_MODEL_EVERY",
    "HUMANSEG_VIDEO_STEADY",
    "HUMANSEG_WORKERS",
}


@pytest.fixture()
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HUMANSEG_") and name != "HUMANSEG_MODEL_DIR":
            monkeypatch.delenv(name)


def test_every_variable_belongs_to_exactly_one_concern() -> None:
    owners = [name for kind in CONCERNS.values() for name in kind.model_fields]
    assert len(owners) == len(set(owners)), "a setting is in two concerns"
    assert {f"HUMANSEG_{name.upper()}" for name in owners} == ENVIRONMENT_NAMES
    assert set(setting_fields()) == set(owners)


def test_the_pipeline_gets_nothing_of_the_server_access_or_ray() -> None:
    others = {"host", "port", "workers", "auth", "api_keys", "max_body_bytes", "ray_address"}
    assert not others & set(PipelineSettings.model_fields)


def test_overrides_win_over_the_environment_which_stays_untouched(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMANSEG_PORT", "9000")
    monkeypatch.setenv("HUMANSEG_MODEL", "u2netp")
    monkeypatch.setenv("HUMANSEG_URL_ALLOWLIST", "a.example, 10.0.0.0/8,,")
    before = dict(os.environ)
    settings = load_settings(port="9100", auth="api_key", api_keys="k1,k2", model=None)
    assert dict(os.environ) == before
    assert settings.server.port == 9100  # the override
    assert settings.pipeline.model == "u2netp"  # None: the environment's value
    assert settings.sources.url_allowlist == ["a.example", "10.0.0.0/8"]
    assert settings.access.auth == "api_key" and settings.access.api_keys == ["k1", "k2"]
    assert load_settings().server.port == 9000  # nothing cached between calls


def test_invalid_values_are_named_by_their_variable(clean_environment: None) -> None:
    with pytest.raises(InvalidSettings) as raised:
        load_settings(port="99999", log_format="xml")
    assert "HUMANSEG_PORT='99999'" in str(raised.value)
    assert "HUMANSEG_LOG_FORMAT='xml'" in str(raised.value)
    with pytest.raises(TypeError, match="unknown settings: no_such_setting"):
        load_settings(no_such_setting=1)


def test_explicit_values_rebuild_the_same_settings_in_another_process(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUMANSEG_RAY_NUM_CPUS", "0.5")
    settings = load_settings(model_dir=str(tmp_path), allowed_hosts="a.example", workers=3)
    explicit = settings.explicit()
    assert explicit["ray_num_cpus"] == 0.5 and explicit["workers"] == 3
    assert "host" not in explicit  # defaults stay the other machine's own
    monkeypatch.delenv("HUMANSEG_RAY_NUM_CPUS")
    assert load_settings(**explicit) == settings
    assert pickle.loads(pickle.dumps(settings)) == settings  # what a worker process receives


def test_settings_read_every_concern_from_the_environment(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMANSEG_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("HUMANSEG_RAY_MAX_REPLICAS", "4")
    settings = Settings()
    assert settings.access == AccessSettings(max_body_bytes=2048)
    assert settings.ray.ray_max_replicas == 4
