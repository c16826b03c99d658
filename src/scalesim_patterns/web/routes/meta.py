"""Server facts, limits and the architecture file's JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from scalesim_patterns import __version__
from scalesim_patterns.model import json_schema

from ..context import AppContext, context
from ..schemas import Info, LimitsBody
from .common import errors

router = APIRouter(prefix="/api", tags=["server"], responses=errors())


@router.get("/info", response_model=Info)
def info(ctx: Annotated[AppContext, Depends(context)]) -> dict[str, object]:
    return {
        "version": __version__,
        "store": ctx.store.backend,
        "workers": ctx.runner.workers,
        "queue_size": ctx.runner.queue_size,
        "token_required": ctx.settings.token is not None,
    }


@router.get("/limits", response_model=LimitsBody)
def limits(ctx: Annotated[AppContext, Depends(context)]) -> dict[str, object]:
    lim = ctx.settings.limits
    return {
        "requests": lim.requests,
        "replications": lim.replications,
        "duration": lim.duration,
        "file_bytes": lim.file_bytes,
        "services": lim.services,
        "body_bytes": lim.body_bytes,
        "sweep_tasks": lim.sweep_tasks,
        "queue": ctx.runner.queue_size,
    }


@router.get("/schema")
def schema() -> dict[str, Any]:
    """The JSON Schema of an architecture file (what `scalesim schema` prints)."""
    return json_schema()
