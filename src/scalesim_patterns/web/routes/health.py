"""`/healthz` (the process answers) and `/readyz` (the store answers too)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends

from ..context import AppContext, context
from ..errors import ApiError
from ..schemas import Health, Ready
from .common import errors

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """Answers from the event loop alone: slow only when the loop is blocked."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, responses=errors(503))
async def readyz(ctx: Annotated[AppContext, Depends(context)]) -> dict[str, object]:
    try:
        await asyncio.wait_for(asyncio.to_thread(ctx.store.ping), timeout=5)
    except Exception:
        raise ApiError(503, "not_ready", "the run store does not answer") from None
    waiting, running = ctx.runner.counts()
    return {
        "status": "ready",
        "store": ctx.store.backend,
        "workers": ctx.runner.workers,
        "queued": waiting,
        "running": running,
    }
