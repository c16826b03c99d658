"""Warming the app before it serves: one request to every route, on a private event loop.

FastAPI (0.16x) builds each route's validators and serializers lazily on its first request,
and does so on the event loop: hundreds of milliseconds during which nothing else is answered.
The requests sent here are refused by validation (ids of 0, empty bodies) or only read, so they
change nothing in the store.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

__all__ = ["warm_catalog", "warm_up"]

log = logging.getLogger("scalesim.web")


async def _call(app: FastAPI, method: str, path: str, token: str | None) -> None:
    headers = [
        (b"host", b"warm-up"),
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
    ]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        "state": {},
    }
    sent = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"{}", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(_: MutableMapping[str, Any]) -> None:
        return None

    await asyncio.wait_for(app(scope, receive, send), timeout=30)


async def _warm(app: FastAPI, token: str | None) -> None:
    app.openapi()
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        path = re.sub(r"\{[^}]+\}", "0", route.path)
        for method in sorted(route.methods or ()):
            try:
                await _call(app, method, path, token)
            except Exception:
                log.debug("warm-up of %s %s failed", method, path, exc_info=True)


def warm_catalog() -> None:
    """Read the catalog before the first client asks: cold, its index takes about half a
    second (the files are read and checked once per process, then kept). One pattern page and
    one template page are built too, for the modules they load."""
    from scalesim_patterns import catalog

    from .routes.catalog import catalog_index, pattern, template

    try:
        catalog_index()
        first = catalog.templates()[0]
        template(first.id)
        pattern(first.patterns[0] if first.patterns else catalog.groups()[0].patterns[0].id)
    except Exception:  # the server still starts; the catalog routes answer with the error
        log.exception("the catalog could not be read at start")


def warm_up(app: FastAPI, token: str | None) -> None:
    """Send the warm-up requests on a new event loop in this (worker) thread."""
    asyncio.run(_warm(app, token))
