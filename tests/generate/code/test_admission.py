"""The generated runtime's admission queue with `scheduling: priority`, run in-process: a freed
slot goes to the highest-priority waiter, oldest first within a priority, as the simulator's
queue does (whose order tests/sim/test_priority.py checks against Cobham's formula); a FIFO
service keeps its arrival order. Per-tenant bulkheads and the consumer header are in the spec."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scalesim_patterns.generate.code import service_spec
from scalesim_patterns.model import load

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "tenant-priority.yaml"


@pytest.fixture(scope="module")
def server(generated_runtime: Callable[[str], ModuleType]) -> ModuleType:
    return generated_runtime("server")


def served_order(
    server: ModuleType, priorities: dict[str, int] | None, arrivals: list[str], cancel: str = ""
) -> list[str]:
    """One slot, taken; `arrivals` queue in order; the slot is then passed on one by one."""

    async def scenario() -> list[str]:
        admission = server.Admission(1, None, priorities)
        await admission.acquire("holder")
        order: list[str] = []

        async def request(name: str) -> None:
            await admission.acquire(name.rstrip("0123456789"))
            order.append(name)

        tasks = {}
        for name in arrivals:
            tasks[name] = asyncio.create_task(request(name))
            await asyncio.sleep(0)  # queued in this order
        if cancel:
            tasks[cancel].cancel()
            await asyncio.sleep(0)
        for _ in range(len(arrivals) - (1 if cancel else 0)):
            admission.release()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        return order

    return asyncio.run(scenario())


ARRIVALS = ["free1", "team1", "free2", "gold1", "team2", "gold2"]
PRIORITIES = {"gold": 10, "team": 5, "free": 0}


def test_priority_admission_serves_the_highest_priority_oldest_first(server: ModuleType) -> None:
    order = served_order(server, PRIORITIES, ARRIVALS)
    assert order == ["gold1", "gold2", "team1", "team2", "free1", "free2"]


def test_fifo_admission_keeps_arrival_order(server: ModuleType) -> None:
    assert served_order(server, None, ARRIVALS) == ARRIVALS


def test_a_cancelled_waiter_is_skipped(server: ModuleType) -> None:
    order = served_order(server, PRIORITIES, ARRIVALS, cancel="gold1")
    assert order == ["gold2", "team1", "team2", "free1", "free2"]


def test_a_full_priority_queue_refuses_whatever_the_priority(server: ModuleType) -> None:
    async def scenario() -> str:
        admission = server.Admission(1, 1, PRIORITIES)
        await admission.acquire("free")
        waiting = asyncio.create_task(admission.acquire("free"))
        await asyncio.sleep(0)
        try:
            await admission.acquire("gold")
        except server.CallFailed as failure:
            cause: str = failure.cause
        waiting.cancel()
        return cause

    assert asyncio.run(scenario()) == "rejected"


def test_the_spec_carries_priorities_and_per_tenant_bulkheads() -> None:
    arch = load(EXAMPLE)
    search: dict[str, Any] = service_spec(arch, "search")
    assert search["scheduling"] == "priority"
    assert search["priorities"] == {"enterprise": 10, "free": 0, "team": 5}
    reports: dict[str, Any] = service_spec(arch, "reports")
    assert "priorities" not in reports
    (bulkhead,) = reports["bulkheads"].values()
    assert bulkhead["per_consumer"] is True


def test_the_local_load_plan_follows_consumer_matches() -> None:
    from scalesim_patterns.generate.code.loadplan import load_plan

    arch = load(EXAMPLE)
    base = {name: f"http://127.0.0.1:{9000 + i}" for i, name in enumerate(arch.spec.services)}
    plan = load_plan(arch, str(EXAMPLE), base, 10.0, 0.0, 0.01, 1)
    bases = {name: [e["base"] for e in entries] for name, entries in plan["sources"].items()}
    assert bases["enterprise"] == [base["reports-dedicated"]]
    assert bases["free"] == bases["team"] == [base["reports"]]
