"""A sweep asked through the API, checked before it is queued: the plan (the language of
`scalesim sweep --vary`/`--sample`, parsed by the sweep package itself), every point (the
sweep package's `prepare`: each value alone, then the largest values together) and the
server's limits on points × replications and on simulated requests.

Each refusal names the request field it is about (`vary[1]`, `sample`, `replications`) and what
would be valid, so the page can mark the field.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import Any

from scalesim_patterns.model import Architecture, validate_text
from scalesim_patterns.sweep import Plan, PlanError, SweepError, make_plan, parse_vary, prepare
from scalesim_patterns.sweep.tasks import Task

from .config import Limits
from .errors import ApiError
from .limits import LimitExceeded, plan_run

__all__ = ["CheckedSweep", "check_sweep", "plan_body"]

VARY_FORMS = "PATH=v1,v2,... (a list) or PATH=LOW..HIGH:COUNT (a range, e.g. traffic.shoppers.arrival.rate=100/s..400/s:4)"


@dataclass(frozen=True)
class CheckedSweep:
    plan: Plan
    tasks: list[Task]
    replications: int
    requests: int
    """Estimated simulated entry requests of the whole sweep (an upper bound: every point at
    the largest point's load)."""


def _invalid(field: str, message: str, valid: str) -> ApiError:
    return ApiError(
        422,
        "invalid_sweep",
        f"{field}: {message.removeprefix('--vary ').removeprefix('--sample ')}",
        {"field": field, "valid": valid},
    )


def _field_of(message: str, plan: Plan) -> str:
    """The `vary[i]` a point's refusal is about: the dimension whose path the message names."""
    for k, dim in enumerate(plan.dimensions):
        if re.search(rf"(^|[\s(]){re.escape(dim.path)}=", message):
            return f"vary[{k}]"
    return "vary"


def check_sweep(
    text: str,
    name: str,
    arch: Architecture,
    *,
    vary: list[str],
    sample: str | None,
    replications: int | None,
    duration: float | None,
    scenario: str | None,
    seed: int | None,
    limits: Limits,
) -> CheckedSweep:
    """The sweep's plan and tasks, or an ApiError naming the field and what would be valid."""
    dims = []
    for k, v in enumerate(vary):
        try:
            dims.append(parse_vary(v))
        except PlanError as exc:
            raise _invalid(f"vary[{k}]", str(exc), VARY_FORMS) from None
    if sample is not None and importlib.util.find_spec("scipy") is None:
        raise _invalid(
            "sample",
            "a sampled plan needs scipy, which this server does not have",
            "no sample (the grid of every combination), or install scalesim-patterns[sweep] "
            "on the server",
        )
    try:
        plan = make_plan(dims, sample, seed=seed or 0)
    except PlanError as exc:
        field = "sample" if sample is not None and "sample" in str(exc) else "vary"
        raise _invalid(
            field, str(exc), "sample: lhs:N or sobol:N (N a power of 2); vary: distinct paths"
        ) from None
    count = replications if replications is not None else arch.spec.simulation.replications
    tasks_asked = len(plan.points) * count
    if count > limits.replications:
        raise _limit(LimitExceeded("replications", count, limits.replications, "replications"))
    if tasks_asked > limits.sweep_tasks:
        raise _limit(
            LimitExceeded(
                "sweep_tasks",
                tasks_asked,
                limits.sweep_tasks,
                f"points x replications ({len(plan.points)} x {count})",
            )
        )
    try:
        tasks, _ = prepare(
            text,
            f"{name}.yaml",
            plan,
            replications=count,
            seed=seed,
            duration=duration,
            scenario=scenario,
        )
    except SweepError as exc:
        message = str(exc)
        raise _invalid(
            _field_of(message, plan), message, "a path and values the file accepts (scalesim set)"
        ) from None
    requests = _requests(text, name, plan, count, duration, scenario, limits)
    return CheckedSweep(plan, tasks, count, requests)


def _limit(exc: LimitExceeded) -> ApiError:
    return ApiError(
        422,
        "limit_exceeded",
        str(exc),
        {"limit": exc.limit, "value": exc.value, "maximum": exc.maximum},
    )


def _requests(
    text: str,
    name: str,
    plan: Plan,
    replications: int,
    duration: float | None,
    scenario: str | None,
    limits: Limits,
) -> int:
    """Requests of the whole sweep, bounded by the point with every varied value at its
    largest (the one `prepare` checks against the simulator's budget) times the tasks."""
    from scalesim_patterns.catalog.setpath import apply_sets

    largest = [
        max((p[k] for p in plan.points), key=lambda v, d=dim: (d.numeric(v) or 0.0, v))  # type: ignore[misc]
        for k, dim in enumerate(plan.dimensions)
    ]
    point_text = apply_sets(
        text, [f"{d.path}={v}" for d, v in zip(plan.dimensions, largest, strict=True)], name
    )
    model, _ = validate_text(point_text, f"{name}.yaml")
    assert model is not None  # prepare validated it
    unbounded = Limits(requests=2**62, replications=limits.replications, duration=limits.duration)
    one = plan_run(model, scenario=scenario, duration=duration, replications=1, limits=unbounded)
    total = one.requests * len(plan.points) * replications
    if total > limits.requests:
        raise _limit(
            LimitExceeded(
                "requests",
                total,
                limits.requests,
                f"estimated simulated requests of the sweep ({one.requests:,} per replication at "
                f"the largest point x {len(plan.points)} points x {replications} replications)",
            )
        )
    return total


def plan_body(plan: Plan, replications: int) -> dict[str, Any]:
    """The plan as the API shows it (and the store keeps it, in the run's options)."""
    return {
        "method": plan.method,
        "dimensions": [
            {"path": d.path, "values": sorted({p[k] for p in plan.points}, key=_order(d))}
            for k, d in enumerate(plan.dimensions)
        ],
        "points": len(plan.points),
        "replications": replications,
        "tasks": len(plan.points) * replications,
    }


def _order(d: Any) -> Any:
    return lambda v: (d.numeric(v) is None, d.numeric(v) or 0.0, v)
