"""`scalesim serve`: the web app and its API on a local port, with the run store."""

from __future__ import annotations

import os

import click

from .main import cli, err, fail
from .store import db_option, open_store_or_exit, shown, store_url


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@db_option
@click.option(
    "--token",
    envvar="SCALESIM_TOKEN",
    help="Token every API call must carry (required to bind a non-loopback address; "
    "default: $SCALESIM_TOKEN).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Runs simulated at once, each in its own process (default: one per core).",
)
@click.option("--queue", "queue_size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--allow-origin", "origins", multiple=True, help="Another origin that may write (repeatable)."
)
@click.option(
    "--nice",
    "worker_nice",
    type=click.IntRange(0, 19),
    default=10,
    show_default=True,
    help="Niceness of the simulation processes (the API stays responsive under load).",
)
@click.option("--max-requests", type=click.IntRange(min=1), help="Simulated requests per run.")
@click.option("--max-replications", type=click.IntRange(min=1), help="Replications per run.")
@click.option("--max-duration", type=float, help="Simulated seconds per replication.")
@click.option(
    "--max-sweep-tasks",
    type=click.IntRange(min=1),
    help="Points x replications per sweep (default 400).",
)
def serve_cmd(
    host: str,
    port: int,
    db: str | None,
    token: str | None,
    workers: int | None,
    queue_size: int,
    origins: tuple[str, ...],
    worker_nice: int,
    max_requests: int | None,
    max_replications: int | None,
    max_duration: float | None,
    max_sweep_tasks: int | None,
) -> None:
    """Start the web app and its API (http://127.0.0.1:8000 by default)."""
    from dataclasses import replace

    import uvicorn

    from scalesim_patterns.web import Limits, Settings, create_app
    from scalesim_patterns.web.config import default_workers, is_loopback

    if not is_loopback(host) and not token:
        fail(
            f"binding {host} exposes the server beyond this machine: give a token with "
            "--token or SCALESIM_TOKEN (clients send 'Authorization: Bearer <token>')"
        )
    if token is not None and len(token) < 16:
        fail("the token is too short: use at least 16 characters (e.g. `openssl rand -hex 16`)")
    limits = Limits()
    if max_requests is not None:
        limits = replace(limits, requests=max_requests)
    if max_replications is not None:
        limits = replace(limits, replications=max_replications)
    if max_duration is not None:
        limits = replace(limits, duration=max_duration)
    if max_sweep_tasks is not None:
        limits = replace(limits, sweep_tasks=max_sweep_tasks)
    store = open_store_or_exit(db)
    url = store_url(db)
    settings = Settings(
        db_url=url,
        token=token,
        host=host,
        port=port,
        workers=workers or default_workers(),
        queue_size=queue_size,
        limits=limits,
        allowed_origins=origins,
        worker_nice=worker_nice,
    )
    err.print(
        f"ScaleSim Patterns on http://{host}:{port}/ · store {shown(url)} · "
        f"{settings.workers} worker{'s' if settings.workers != 1 else ''}"
        + (" · token required" if token else ""),
        markup=False,
    )
    os.environ.pop("SCALESIM_TOKEN", None)  # not inherited by the simulation processes
    uvicorn.run(
        create_app(settings, store=store),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
