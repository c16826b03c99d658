"""Runs: start (simulate or compare), list, read, cancel, delete, the result, the event stream."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

from ..context import AppContext, context
from ..errors import ApiError
from ..limits import LimitExceeded, RunPlan, plan_run
from ..runner import QueueFull
from ..schemas import MAX_ID, CompareRequest, Run, RunRequest
from ..store import TERMINAL, ArchitectureRecord, RunRecord, Store, VersionRecord
from ..views import run_body
from ..worker import Job
from .architectures import limit_error, valid_version
from .common import RunId, errors, store_errors

router = APIRouter(prefix="/api", tags=["runs"])

Ctx = Annotated[AppContext, Depends(context)]
KEEPALIVE = 15.0
"""Seconds of silence after which a stream sends a comment line."""
BATCH = 500


def _jobs(ctx: AppContext) -> int:
    """Replication processes per run, so that all workers together use the cores once."""
    return max(1, (os.cpu_count() or 1) // max(1, ctx.runner.workers))


def check_scenario(names: list[str], scenario: str | None, arch_name: str) -> None:
    """422 for a scenario the architecture does not define, before anything is queued."""
    if scenario is not None and scenario not in names:
        known = ", ".join(sorted(names)) or "none defined"
        raise ApiError(
            422,
            "unknown_scenario",
            f"{arch_name} has no scenario '{scenario}' (scenarios: {known})",
            {"scenario": scenario, "known": sorted(names)},
        )


def _options(body: RunRequest | CompareRequest) -> dict[str, Any]:
    return {
        "scenario": body.scenario,
        "duration": body.duration,
        "replications": body.replications,
        "seed": body.seed,
    }


def _enqueue(
    ctx: AppContext, make: Callable[[], RunRecord], job: Callable[[int], Job]
) -> RunRecord:
    """Reserve a queue slot before storing the run, and give it back if storing fails."""
    try:
        ctx.runner.reserve()
    except QueueFull as exc:
        raise ApiError(
            429,
            "queue_full",
            str(exc),
            {"limit": "queue", "value": exc.value, "maximum": exc.maximum},
        ) from None
    try:
        record: RunRecord = make()
    except BaseException:
        ctx.runner.release()
        raise
    ctx.runner.submit(job(record.id))
    return ctx.store.run(record.id)


Stored = tuple[ArchitectureRecord, VersionRecord]
"""A stored architecture and the version of it a run reads."""


def queue_run(
    ctx: AppContext,
    *,
    kind: Literal["simulate", "compare", "sweep"],
    a: Stored,
    b: Stored | None = None,
    options: dict[str, Any],
    estimated_requests: int,
    scenario: str | None,
    duration: float | None,
    replications: int | None,
    seed: int | None,
    sweep: dict[str, Any] | None = None,
) -> RunRecord:
    """Store a web-started run and hand its job to the worker pool (429 when the queue is full).

    Every kind (simulate, compare, sweep) goes through here, so the stored row and the job the
    worker runs are built from the same values and cannot drift apart."""
    arch_a, va = a
    return _enqueue(
        ctx,
        lambda: ctx.store.create_run(
            kind=kind,
            source="web",
            architecture_id=arch_a.id,
            version=va.version,
            architecture_name=arch_a.name,
            options=options,
            estimated_requests=estimated_requests,
            b=None if b is None else (b[0].id, b[1].version, b[0].name),
        ),
        lambda run_id: Job(
            run_id=run_id,
            kind=kind,
            text=va.text,
            name=arch_a.name,
            text_b=None if b is None else b[1].text,
            name_b=None if b is None else b[0].name,
            scenario=scenario,
            duration=duration,
            replications=replications,
            seed=seed,
            jobs=_jobs(ctx),
            nice=ctx.settings.worker_nice,
            sweep=sweep,
        ),
    )


@router.post("/runs", status_code=202, response_model=Run, responses=errors(404, 429))
def start_run(body: RunRequest, ctx: Ctx) -> dict[str, object]:
    """Queue a simulation of an architecture version."""
    arch, v, analysis = valid_version(ctx, body.architecture_id, body.version)
    assert analysis.arch is not None
    check_scenario(list(analysis.arch.spec.scenarios), body.scenario, arch.name)
    duration = body.duration if isinstance(body.duration, float) else None
    try:
        plan: RunPlan = plan_run(
            analysis.arch,
            scenario=body.scenario,
            duration=duration,
            replications=body.replications,
            limits=ctx.settings.limits,
        )
    except LimitExceeded as exc:
        raise limit_error(exc) from None
    record = queue_run(
        ctx,
        kind="simulate",
        a=(arch, v),
        options=_options(body),
        estimated_requests=plan.requests,
        scenario=body.scenario,
        duration=duration,
        replications=body.replications,
        seed=body.seed,
    )
    return run_body(record)


@router.post("/compare", status_code=202, response_model=Run, responses=errors(404, 429))
def start_compare(body: CompareRequest, ctx: Ctx) -> dict[str, object]:
    """Queue a comparison of two versions under common random numbers (b − a)."""
    arch_a, va, an_a = valid_version(ctx, body.a.architecture_id, body.a.version)
    arch_b, vb, an_b = valid_version(ctx, body.b.architecture_id, body.b.version)
    assert an_a.arch is not None and an_b.arch is not None
    check_scenario(list(an_a.arch.spec.scenarios), body.scenario, arch_a.name)
    check_scenario(list(an_b.arch.spec.scenarios), body.scenario, arch_b.name)
    duration = body.duration if isinstance(body.duration, float) else None
    try:
        plan = plan_run(
            an_a.arch,
            scenario=body.scenario,
            duration=duration,
            replications=body.replications,
            limits=ctx.settings.limits,
            compare=True,
            variants=2,
        )
        plan_run(
            an_b.arch,
            scenario=body.scenario,
            duration=duration if duration is not None else plan.duration,
            replications=plan.replications,
            limits=ctx.settings.limits,
            compare=True,
            variants=2,
        )
    except LimitExceeded as exc:
        raise limit_error(exc) from None
    record = queue_run(
        ctx,
        kind="compare",
        a=(arch_a, va),
        b=(arch_b, vb),
        options=_options(body),
        estimated_requests=plan.requests,
        scenario=body.scenario,
        duration=duration,
        replications=body.replications,
        seed=body.seed,
    )
    return run_body(record)


@router.get("/runs", response_model=list[Run], responses=errors())
def list_runs(
    ctx: Ctx,
    architecture_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    state: Literal["queued", "running", "done", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    kind: Literal["simulate", "compare", "sweep"] | None = None,
) -> list[dict[str, object]]:
    return [
        run_body(r)
        for r in ctx.store.runs(
            architecture_id=architecture_id, state=state, limit=limit, offset=offset, kind=kind
        )
    ]


@router.get("/runs/{run_id}", response_model=Run, responses=errors(404))
def get_run(run_id: RunId, ctx: Ctx) -> dict[str, object]:
    with store_errors():
        return run_body(ctx.store.run(run_id))


@router.get(
    "/runs/{run_id}/result",
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "The result JSON of `scalesim simulate --json` (or `compare --json`)",
        },
        **errors(404, 409),
    },
)
def get_result(run_id: RunId, ctx: Ctx) -> Response:
    with store_errors():
        run = ctx.store.run(run_id)
        text = ctx.store.result(run_id)
    if run.state != "done" or text is None:
        raise ApiError(
            409,
            "conflict",
            f"run {run_id} is {run.state}; its result exists once it is done",
            {"state": run.state},
        )
    return Response(text, media_type="application/json")


@router.post("/runs/{run_id}/cancel", response_model=Run, responses=errors(404))
def cancel_run(run_id: RunId, ctx: Ctx) -> dict[str, object]:
    with store_errors():
        run = ctx.store.run(run_id)
    if run.state not in TERMINAL:
        ctx.runner.cancel(run_id)
    with store_errors():
        return run_body(ctx.store.run(run_id))


@router.delete(
    "/runs/{run_id}", status_code=204, response_class=Response, responses=errors(404, 409)
)
def delete_run(run_id: RunId, ctx: Ctx) -> Response:
    with store_errors():
        try:
            ctx.store.delete_run(run_id)
        except RuntimeError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
    return Response(status_code=204)


def _frame(seq: int, kind: str, data: str) -> bytes:
    return f"id: {seq}\nevent: {kind}\ndata: {data}\n\n".encode()


def _frames(store: Store, run_id: int, after: int) -> tuple[bytes, int, int, bool]:
    """The next events after `after` as one chunk of SSE frames: (chunk, how many, the last
    sequence number sent, whether the terminal `state` event was among them). Runs in a thread."""
    frames: list[bytes] = []
    last = after
    batch = store.events(run_id, after, BATCH)
    for event in batch:
        last = event.seq
        frames.append(_frame(event.seq, event.type, event.data))
        if event.type == "state" and json.loads(event.data).get("state") in TERMINAL:
            return b"".join(frames), len(batch), last, True
    return b"".join(frames), len(batch), last, False


@router.get(
    "/runs/{run_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "The run's events in order (see docs/web-api.md)",
        },
        **errors(404),
    },
)
async def run_events(
    run_id: RunId,
    ctx: Ctx,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Send events after this one.")
    ] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Server-Sent Events: every event of the run from the first (or after `Last-Event-ID`);
    the stream ends after the terminal `state` event."""
    start = after or 0
    if last_event_id is not None and last_event_id.strip().isdigit():
        start = max(start, int(last_event_id.strip()))
    store, hub = ctx.store, ctx.hub
    try:
        await asyncio.to_thread(store.run, run_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from None

    async def stream() -> AsyncIterator[bytes]:
        last = start
        yield b"retry: 1000\n\n"
        while True:
            waiter = hub.register(run_id)
            try:
                try:
                    # Reading, framing and encoding happen in a thread, one chunk per batch:
                    # the event loop only passes bytes on (windows make big batches).
                    chunk, count, last, ended = await asyncio.to_thread(
                        _frames, store, run_id, last
                    )
                except LookupError:  # deleted while streaming
                    return
                if chunk:
                    yield chunk
                if ended:
                    return
                if count == BATCH:
                    continue
                if not count:
                    try:
                        run = await asyncio.to_thread(store.run, run_id)
                    except LookupError:  # deleted while streaming
                        return
                    if run.state in TERMINAL and run.last_event <= last:
                        return
                try:
                    await asyncio.wait_for(waiter.wait(), timeout=KEEPALIVE)
                except TimeoutError:
                    yield b": keep-alive\n\n"
            finally:
                hub.unregister(run_id, waiter)

    return EventSourceResponse(
        stream(), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
