"""The designer's node positions of an architecture: kept with it, not versioned."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ..context import AppContext, context
from ..documents import analyse
from ..errors import ApiError
from ..layouts import split_known
from ..schemas import Layout, LayoutSaved
from .common import ArchId, errors, store_errors

router = APIRouter(prefix="/api", tags=["architectures"])

Ctx = Annotated[AppContext, Depends(context)]

NODES_PER_PART = 4
"""Positions allowed per part of the architecture size limit (a service brings its topics,
clients and entries along)."""


@router.get("/architectures/{arch_id}/layout", response_model=LayoutSaved, responses=errors(404))
def get_layout(arch_id: ArchId, ctx: Ctx) -> dict[str, Any]:
    """The stored positions (empty when the designer never saved any)."""
    with store_errors():
        return {"positions": ctx.store.layout(arch_id), "ignored": []}


@router.put("/architectures/{arch_id}/layout", response_model=LayoutSaved, responses=errors(404))
def put_layout(arch_id: ArchId, body: Layout, ctx: Ctx) -> dict[str, Any]:
    """Replace the positions; those of nodes the latest version does not have are ignored
    (listed in `ignored`), the rest returned as stored."""
    maximum = NODES_PER_PART * ctx.settings.limits.services
    if len(body.positions) > maximum:
        raise ApiError(
            422,
            "limit_exceeded",
            f"the layout has {len(body.positions)} positions; at most {maximum} "
            f"({NODES_PER_PART} per part of the architecture size limit)",
            {"limit": "layout_nodes", "value": len(body.positions), "maximum": maximum},
        )
    positions = {k: {"x": p.x, "y": p.y} for k, p in body.positions.items()}
    with store_errors():
        arch = ctx.store.architecture(arch_id)
        latest = ctx.store.version(arch_id)
        kept, ignored = split_known(positions, analyse(latest.text, arch.name).arch)
        ctx.store.save_layout(arch_id, kept)
    return {"positions": kept, "ignored": ignored}
