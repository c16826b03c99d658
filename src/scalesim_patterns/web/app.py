"""The FastAPI application: routes, error handlers, guards, and the life of the store and runner."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from scalesim_patterns import __version__

from .config import Settings
from .context import AppContext
from .errors import install_error_handlers
from .hub import Hub
from .page import page_router
from .routes import (
    architectures,
    catalog,
    estimate,
    generate,
    health,
    layout,
    meta,
    runs,
    sweeps,
)
from .runner import Runner
from .security import Guard
from .store import Store
from .warm import warm_catalog, warm_up

__all__ = ["create_app"]

log = logging.getLogger("scalesim.web")

CPU_THREADS = 2
"""Request handlers run in threads at the same time (the rest wait their turn)."""

DESCRIPTION = """The API of ScaleSim Patterns: the pattern catalog, architectures with their
versions and diagnostics, simulation runs with live events (Server-Sent Events), comparisons and
generated manifests. docs/web-api.md describes the shapes and the event stream."""


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The app for `settings`; the store is opened (and migrated) when the app starts, runs
    left active by a stopped server are marked interrupted, and the runner starts."""
    hub = Hub()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened: Store = (
            store if store is not None else await asyncio.to_thread(Store.open, settings.db_url)
        )
        lost = await asyncio.to_thread(opened.mark_interrupted)
        if lost:
            log.warning("marked %d run(s) interrupted: %s", len(lost), lost)
        hub.loop = asyncio.get_running_loop()
        # Validation and generation are CPU work in threads: a few at a time, and a short GIL
        # switch interval, keep the event loop (health checks, streams) answering promptly.
        anyio.to_thread.current_default_thread_limiter().total_tokens = CPU_THREADS
        sys.setswitchinterval(0.001)
        runner = Runner(
            opened,
            workers=settings.workers,
            queue_size=settings.queue_size,
            notify=hub.wake_threadsafe,
        )
        runner.start()
        app.state.ctx = AppContext(settings=settings, store=opened, runner=runner, hub=hub)
        # FastAPI builds a route's state on its first request, on the event loop; do that now,
        # off the loop, so the first burst of clients does not stall health checks.
        await asyncio.to_thread(warm_catalog)
        await asyncio.to_thread(warm_up, app, settings.token)
        # What start-up loaded (catalog, schemas, routes) lives as long as the server: out of the
        # collector's sight, so a full collection does not walk it with the event loop held.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await asyncio.to_thread(runner.stop)
            hub.loop = None
            if store is None:
                opened.close()

    app = FastAPI(
        title="ScaleSim Patterns",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (
        health,
        meta,
        catalog,
        architectures,
        estimate,
        layout,
        generate,
        runs,
        sweeps,
    ):
        app.include_router(module.router)
    app.include_router(page_router(settings.static_dir))
    guard_options: dict[str, Any] = {
        "token": settings.token,
        "body_limit": settings.limits.body_bytes,
        "allowed_origins": settings.allowed_origins,
    }
    app.add_middleware(Guard, **guard_options)
    return app
