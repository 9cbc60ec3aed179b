"""``humanseg serve``: the HTTP API under uvicorn, or on Ray Serve with ``--ray``."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import click

from humanseg import __version__
from humanseg.commands.options import fail, ray_module, settings_from_flags
from humanseg.errors import HumansegError
from humanseg.settings import setting_fields


def settings_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """A ``--flag`` for every setting, so the CLI and HUMANSEG_* cover the same settings."""
    for name, field in reversed(setting_fields().items()):
        annotation = field.annotation
        kinds: dict[Any, Any] = {int: click.INT, float: click.FLOAT, bool: click.BOOL}
        kind = kinds.get(annotation)
        function = click.option(
            f"--{name.replace('_', '-')}",
            name,
            type=kind,
            default=None,
            help=f"{field.description} [env: HUMANSEG_{name.upper()}]",
        )(function)
    return function


@click.command()
@settings_options
@click.option(
    "--ray",
    "on_ray",
    is_flag=True,
    help="Deploy on Ray Serve (extra [ray]): cluster HUMANSEG_RAY_ADDRESS, replicas and "
    "autoscaling from the HUMANSEG_RAY_* settings.",
)
def serve(on_ray: bool, **overrides: Any) -> None:
    """Run the HTTP API (docs at /docs). The default model's files are pulled first."""
    from dataclasses import replace

    import uvicorn

    from humanseg.api.auth import load_api_keys
    from humanseg.api.browser import LOOPBACK_NAMES
    from humanseg.api.factory import AppFactory
    from humanseg.api.wire import WireLimits, set_limits
    from humanseg.logs import log_config
    from humanseg.models.availability import side_by_side_warning
    from humanseg.models.catalog import FACE_DETECTION
    from humanseg.models.presets import ensure_models, model_availability
    from humanseg.models.store import ModelStore

    settings = settings_from_flags(**overrides)
    pipeline, server = settings.pipeline, settings.server
    if "pull_on_request" not in pipeline.model_fields_set:
        # a server pulls what its operator configured, at start-up; never for a caller
        pipeline = pipeline.model_copy(update={"pull_on_request": False})
        settings = replace(settings, pipeline=pipeline)
    if not settings.access.allowed_hosts and _is_loopback(server.host):
        # a web page must not drive a local server through DNS rebinding
        access = settings.access.model_copy(update={"allowed_hosts": list(LOOPBACK_NAMES)})
        settings = replace(settings, access=access)
    try:
        load_api_keys(settings.access)  # fail here, in one line, rather than in every worker
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if server.workers > 1:
        _share_metrics_between_workers()
    store = ModelStore.from_settings(pipeline, progress=True)
    try:  # pull here, with a progress bar, rather than silently in each worker
        ensure_models(store, pipeline.model, pipeline.onnx_engine)
    except HumansegError as exc:
        fail(exc)
    for name in dict.fromkeys(server.models):
        try:
            state = model_availability(name, store, pipeline.onnx_engine)
            if state.available:
                ensure_models(store, name, pipeline.onnx_engine)
        except HumansegError as exc:
            fail(exc)
        if not state.available:  # served, but listed as unavailable, with what it needs
            click.echo(f"warning: {name!r} cannot run on this machine: {state.reason}.", err=True)
    side_by_side = side_by_side_warning()
    if side_by_side:
        click.echo(f"warning: {side_by_side}.", err=True)
    try:  # `id_photo` needs it; from the same package as the default pipeline's models
        store.ensure(FACE_DETECTION)
    except HumansegError as exc:
        click.echo(f"warning: id_photo will not work: {exc.message}", err=True)
    if on_ray:
        start = ray_module("humanseg.scale.ray_serve").start

        click.echo(
            f"humanseg {__version__}: deploying on Ray Serve, HTTP on "
            f"http://{server.host}:{server.port}",
            err=True,
        )
        start(settings.explicit())
        return
    config = uvicorn.Config(
        AppFactory.of(settings),  # each worker process builds the app from these settings
        factory=True,
        host=server.host,
        port=server.port,
        workers=server.workers,
        log_level=server.log_level.lower(),
        log_config=log_config(server.log_level, server.log_format),
        access_log=False,  # humanseg logs each request itself, with its id and error code
        timeout_graceful_shutdown=30,
        # httptools with humanseg's head, rate and deadline limits (see humanseg.api.wire)
        http="humanseg.api.wire:GuardedHttpToolsProtocol",
        timeout_keep_alive=server.keepalive_timeout,
    )
    set_limits(config, WireLimits.from_settings(settings.access))
    sock = _listen(server.host, server.port)  # "serving on" only once the port is ours
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"humanseg {__version__}: serving on http://{shown}:{port} "
        f"(docs at /docs, model {pipeline.model!r}, {server.workers} worker(s))",
        err=True,
    )
    http_server = uvicorn.Server(config)
    try:
        if server.workers > 1:
            import inspect

            from uvicorn.supervisors import Multiprocess

            # older uvicorn releases take the worker's target; newer ones make it themselves
            takes_target = "target" in inspect.signature(Multiprocess).parameters
            extra: dict[str, Any] = {"target": http_server.run} if takes_target else {}
            Multiprocess(config, sockets=[sock], **extra).run()
        else:
            http_server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if server.workers == 1 and not http_server.started:
        sys.exit(3)  # uvicorn's exit status for a failed start-up


def _listen(host: str, port: int) -> socket.socket:
    """Bind the server's socket here, so a port in use is one clear line, before any banner."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}.") from None
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _share_metrics_between_workers() -> None:
    """Worker processes write their metrics to a private folder that /metrics adds up."""
    import atexit
    import shutil
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = tempfile.mkdtemp(prefix="humanseg-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
