"""Ray: jobs on Ray Data (`humanseg batch --ray`, an actor pool) and `humanseg serve --ray`.

One small local Ray instance (2 CPUs, a 200 MB object store, no dashboard) for the module.
Needs the `[ray]` extra.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from humanseg.jobs.engine import Summary, run_job
from humanseg.jobs.locations import open_location
from humanseg.jobs.manifest import Manifest
from humanseg.jobs.plan import plan
from humanseg.jobs.ray_data import run_ray
from humanseg.jobs.request import OutputRequest
from humanseg.jobs.sinks import default_manifest
from humanseg.jobs.worker import Task
from humanseg.outputs import ImageFormat
from humanseg.settings import load_settings
from tests.support import images, servers
from tests.support.batch import (
    check_output,
    kill,
    manifest_lines,
    photo_set,
    wait_for_files,
    wait_for_processes,
)
from tests.support.s3 import AWS_ENV, BUCKET, boto_kwargs

ray = pytest.importorskip("ray", reason="needs the [ray] extra")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ACTOR_TITLE = "ray::MapWorker(MapBatches(SegmentActor))"


@pytest.fixture(scope="module")
def local_ray(s3_server: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENV.items():  # Ray's workers inherit this environment
            patch.setenv(name, value)
        patch.setenv("RAY_AUTH_MODE", "disabled")
        ray.init(
            num_cpus=2,
            object_store_memory=200 * 1024**2,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",  # keep Ray's own traffic on loopback
            logging_level="WARNING",
            log_to_driver=False,
        )
        try:
            yield
        finally:
            ray.shutdown()


@pytest.mark.slow
def test_replicas_fixed_or_autoscaled() -> None:
    from ray.serve import Application

    from humanseg.scale.ray_serve import app, deployment_options
    from humanseg.settings import RaySettings

    fixed = deployment_options(RaySettings(ray_min_replicas=3, ray_max_replicas=3))
    assert fixed["num_replicas"] == 3 and "autoscaling_config" not in fixed
    scaled = deployment_options(
        RaySettings(ray_min_replicas=0, ray_max_replicas=8, ray_num_gpus=1, ray_num_cpus=2)
    )
    assert scaled["autoscaling_config"] == {
        "min_replicas": 0,
        "max_replicas": 8,
        "target_ongoing_requests": 2.0,
    }
    assert scaled["ray_actor_options"] == {"num_cpus": 2.0, "num_gpus": 1.0}
    assert isinstance(app({"ray_max_replicas": "4"}), Application)  # the Serve config builder


def test_serve_on_ray_answers_the_seed_endpoint(local_ray: None) -> None:
    from ray import serve

    from humanseg.scale import ray_serve

    port = servers.free_port()
    overrides = {"host": "127.0.0.1", "port": port, "ray_num_cpus": 0.5}
    ray_serve.start(overrides, blocking=False)  # what `humanseg serve --ray` runs
    try:
        url = f"http://127.0.0.1:{port}"
        servers.wait_until(
            lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 200,
            timeout=120,
            what="Ray Serve deployment",
        )
        jpeg = images.astronaut_jpeg()
        body = {"img": base64.b64encode(jpeg).decode()}
        response = httpx.post(f"{url}/human_image_segmentation", json=body, timeout=60)
        assert response.status_code == 200, response.text
        check_output("astronaut", base64.b64decode(response.json()["result"]), jpeg)
        bad = httpx.post(f"{url}/human_image_segmentation", json={"img": "%%%"}, timeout=60)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_base64"
    finally:
        serve.shutdown()


def test_ray_batch_from_s3_survives_a_killed_actor(
    local_ray: None, s3_server: str, tmp_path: Path
) -> None:
    client = boto3.client("s3", endpoint_url=s3_server, **boto_kwargs())
    photos = photo_set(120)
    for key, data in photos.items():
        client.put_object(Bucket=BUCKET, Key=f"ray-in/{key}", Body=data)
    destination = tmp_path / "out"
    settings = load_settings(s3_endpoint_url=s3_server, ray_num_cpus=0.5)
    sink = open_location(str(destination))
    job = plan([f"s3://{BUCKET}/ray-in"], sink, settings.sources, ImageFormat.PNG)
    task = Task(settings, OutputRequest(), sink)
    summary: list[Summary] = []
    failure: list[BaseException] = []

    def drive() -> None:  # what `humanseg batch s3://... DST --ray --workers 2` runs
        try:
            with Manifest(default_manifest(sink)) as manifest:
                summary.append(
                    run_job(
                        job,
                        sink,
                        lambda items: run_ray(task, items, workers=2),
                        manifest=manifest,
                        progress=False,
                    )
                )
        except BaseException as exc:
            failure.append(exc)

    driver = threading.Thread(target=drive)
    driver.start()
    wait_for_files(destination, "**/*.png", at_least=1, timeout=180)
    raylet = ray._private.worker._global_node.all_processes["raylet"][0].process.pid
    # ours, not another Ray's
    actors = wait_for_processes(parent=raylet, cmdline_has=ACTOR_TITLE, timeout=60)
    kill(actors[0])
    driver.join(timeout=300)
    assert not driver.is_alive(), "the Ray batch did not finish"
    assert not failure, failure
    assert not os.path.exists(f"/proc/{actors[0]}")
    [result] = summary
    assert (result.done, result.failed, result.skipped) == (len(photos), 0, 0)
    for key, data in photos.items():
        check_output(key, (destination / key).with_suffix(".png").read_bytes(), data)
    assert not (destination / ".humanseg-tmp").exists()
    lines = manifest_lines(destination / ".humanseg-batch.jsonl")
    assert {line["key"] for line in lines if line["status"] == "done"} == set(photos)


def test_ray_batch_takes_a_clip_as_one_task(local_ray: None, tmp_path: Path) -> None:
    from humanseg.jobs.video import VideoJob
    from tests.support.videos import person_frames, read_clip, write_clip

    source = tmp_path / "in"
    source.mkdir()
    photos = photo_set(3)
    for key, data in photos.items():
        (source / key).parent.mkdir(parents=True, exist_ok=True)
        (source / key).write_bytes(data)
    write_clip(source / "talk.mp4", person_frames(4, (96, 72)))
    settings = load_settings(ray_num_cpus=0.5)
    sink = open_location(str(tmp_path / "out"))
    request, video = OutputRequest(), VideoJob()
    job = plan(
        [str(source)],
        sink,
        settings.sources,
        ImageFormat.PNG,
        lambda: video.suffix(request, settings.video),
    )
    task = Task(settings, request, sink, video=video)
    with Manifest(default_manifest(sink)) as manifest:
        summary = run_job(
            job,
            sink,
            lambda items: run_ray(task, items, workers=2),
            manifest=manifest,
            progress=False,
        )
    assert (summary.done, summary.failed) == (len(photos) + 1, 0)
    assert read_clip(tmp_path / "out" / "talk.mp4").frames == 4  # the alpha matte, as H.264
    for key, data in photos.items():
        check_output(key, (tmp_path / "out" / key).with_suffix(".png").read_bytes(), data)
