"""Sweeps of a stored design: `POST /api/sweeps` checks the plan and queues it as a run of kind
`sweep` (listed, streamed, cancelled and deleted like any run; its result is the tidy table)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ..context import AppContext, context
from ..errors import ApiError
from ..limits import LimitExceeded, plan_run
from ..schemas import Run, SweepRequest
from ..sweeps import check_sweep, plan_body
from ..views import run_body
from .architectures import limit_error, valid_version
from .common import errors
from .runs import check_scenario, queue_run

router = APIRouter(prefix="/api", tags=["sweeps"])

Ctx = Annotated[AppContext, Depends(context)]


@router.post("/sweeps", status_code=202, response_model=Run, responses=errors(404, 429))
def start_sweep(body: SweepRequest, ctx: Ctx) -> dict[str, object]:
    """Queue a sweep of an architecture version over the `vary` settings (a grid, or `sample`
    points), every point with the same seeds (common random numbers)."""
    arch, v, analysis = valid_version(ctx, body.architecture_id, body.version)
    assert analysis.arch is not None
    check_scenario(list(analysis.arch.spec.scenarios), body.scenario, arch.name)
    duration = body.duration if isinstance(body.duration, float) else None
    try:  # the duration limit, and the span a point runs for (the file's when not given)
        span = plan_run(
            analysis.arch,
            scenario=body.scenario,
            duration=duration,
            replications=1,
            limits=ctx.settings.limits,
        ).duration
    except LimitExceeded as exc:
        if exc.limit != "requests":
            raise limit_error(exc) from None
        span = duration or analysis.arch.spec.simulation.duration
    checked = check_sweep(
        v.text,
        arch.name,
        analysis.arch,
        vary=list(body.vary),
        sample=body.sample,
        replications=body.replications,
        duration=duration,
        scenario=body.scenario,
        seed=body.seed,
        limits=ctx.settings.limits,
    )
    if not checked.tasks:  # pragma: no cover - make_plan gives at least one point
        raise ApiError(422, "invalid_sweep", "the sweep has no point", {"field": "vary"})
    plan = plan_body(checked.plan, checked.replications)
    options = {
        "scenario": body.scenario,
        "duration": body.duration,
        "replications": checked.replications,
        "seed": body.seed,
        "sweep": {**plan, "vary": list(body.vary), "sample": body.sample},
    }
    record = queue_run(
        ctx,
        kind="sweep",
        a=(arch, v),
        options=options,
        estimated_requests=checked.requests,
        scenario=body.scenario,
        duration=duration,
        replications=checked.replications,
        seed=body.seed,
        sweep={
            "vary": list(body.vary),
            "sample": body.sample,
            "replications": checked.replications,
            "duration": span,
        },
    )
    return run_body(record)
