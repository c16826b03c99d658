"""`POST /api/estimate`: the analytic steady state of a text, for live feedback while editing.

Milliseconds for ordinary files (docs/estimate.md), within the same size limits as a save; the
text is not stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from scalesim_patterns.estimate import EstimateError, estimate

from ..context import AppContext, context
from ..errors import ApiError
from ..schemas import Strict
from .architectures import checked
from .common import errors

router = APIRouter(prefix="/api", tags=["estimate"])

Ctx = Annotated[AppContext, Depends(context)]


class EstimateRequest(Strict):
    text: str
    scenario: str | None = None
    load: float = Field(1.0, gt=0, le=1e6)
    """Multiplies every source's rate and population."""


@router.post("/estimate", response_model=dict[str, Any], responses=errors())
def estimate_text(body: EstimateRequest, ctx: Ctx) -> dict[str, Any]:
    """Throughput, utilisation, mean response times and the bottleneck from queueing theory
    (no simulation); `ignored` lists what it leaves out."""
    analysis = checked(ctx, body.text, "architecture")
    if analysis.arch is None:
        raise ApiError(
            422,
            "invalid_architecture",
            "the architecture has errors; fix them to get an estimate",
            {"diagnostics": analysis.diagnostics},
        )
    try:
        return estimate(analysis.arch, scenario=body.scenario, load=body.load).to_dict()
    except EstimateError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
