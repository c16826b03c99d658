"""Instant estimates: an architecture's steady state from queueing theory, in milliseconds.

`estimate(arch)` answers "what throughput, utilisation and mean response time, and where is the
bottleneck" without simulating: the architecture is read as a queueing network (`network.py`)
and solved with closed forms (`queues.py`: Erlang C, Allen–Cunneen, fork-join maxima, mean
value analysis). It talks to the model only, never to the simulator, so it can run on every
keystroke of an editor. What it ignores is listed in `IGNORED` and printed with every result.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

from scalesim_patterns.model.architecture import Architecture

from .network import EstimateError, Network, Solution
from .report import (
    IGNORED,
    ConsumerEstimate,
    EndpointEstimate,
    EntryEstimate,
    Estimate,
    StationEstimate,
)

__all__ = [
    "IGNORED",
    "ConsumerEstimate",
    "EndpointEstimate",
    "EntryEstimate",
    "Estimate",
    "EstimateError",
    "Network",
    "StationEstimate",
    "estimate",
    "saturation_load",
]

SATURATED = 0.999
"""Utilisation counted as saturation (a closed population only approaches 100 %)."""
MAX_LOAD = 1e6


def _architecture(arch: Architecture | str | PathLike[str]) -> Architecture:
    if isinstance(arch, Architecture):
        return arch
    from scalesim_patterns.model import load

    return load(Path(arch))


def _peak(solution: Solution) -> float:
    return max((st.utilisation for st in solution.stations.values()), default=0.0)


def saturation_load(network: Network, *, tolerance: float = 5e-3) -> float:
    """The load multiplier at which the busiest station reaches saturation; infinity when
    nothing saturates below MAX_LOAD.

    1 / (peak utilisation) is exact when holding times do not grow with load (async services,
    pools, the gateway); in thread mode a caller's holding time grows with its callees' queues,
    so the true point lies below it: bisection on the solver between half and all of it."""
    first = _peak(network.solve(1.0))
    if not first < SATURATED:
        high = 1.0  # saturated already: halve until it is not
        while _peak(network.solve(high / 2)) >= SATURATED and high > 1 / MAX_LOAD:
            high /= 2
        low = high / 2
    else:
        low, high = 0.0, (1.0 / first if first > 0 else MAX_LOAD)
    while _peak(network.solve(high)) < SATURATED:
        low, high = high, high * 2
        if high > MAX_LOAD:
            return float("inf")
    if low == 0.0 and _peak(network.solve(high / 2)) < SATURATED:
        low = high / 2
    while high - low > tolerance * high:
        mid = (low + high) / 2
        if _peak(network.solve(mid)) < SATURATED:
            low = mid
        else:
            high = mid
    return high


def estimate(
    arch: Architecture | str | PathLike[str],
    *,
    scenario: str | None = None,
    load: float = 1.0,
    headroom: bool = True,
) -> Estimate:
    """The steady state of `arch` (under `scenario`'s traffic) with every source's rate or
    population times `load`. `headroom` also finds the load at which it saturates (a few more
    solves). Raises EstimateError for a file it cannot read as a network."""
    model = _architecture(arch)
    network = Network(model, scenario)
    sol = network.solve(load)
    return _report(model, network, sol, scenario, load, headroom)


def _report(
    model: Architecture,
    network: Network,
    sol: Solution,
    scenario: str | None,
    load: float,
    headroom: bool,
) -> Estimate:
    entries = {
        name: EntryEstimate(
            arrival_rate=rate,
            throughput=rate * (1 - sol.entry_failure[name]),
            error_rate=sol.entry_failure[name],
            response_mean=sol.entry_response[name],
        )
        for name, rate in sol.entry_rate.items()
    }
    endpoints = {
        ref: EndpointEstimate(sol.endpoint_rate[ref], sol.endpoint_response[ref])
        for ref in network.endpoints
    }
    stations = {
        st.name: StationEstimate(
            kind=st.kind,
            replicas=st.replicas,
            servers=st.servers,
            throughput=st.arrival_rate * st.replicas,
            utilisation=st.utilisation,
            holding_mean=st.holding,
            wait_mean=st.wait,
            queue_mean=st.queue * st.replicas,
        )
        for st in sol.stations.values()
    }
    consumers = _consumers(network, sol)
    busiest = max(stations.items(), key=lambda kv: kv[1].utilisation, default=None)
    bottleneck = busiest[0] if busiest is not None and busiest[1].utilisation > 0 else None
    # saturation_load() is a multiplier of the file's own load; the report's is of the load
    # asked for ("saturates at 1.33x this load" at --load 1.5 when the file saturates at 2x).
    sat = saturation_load(network) / load if headroom else float("nan")
    return Estimate(
        architecture=model.name,
        scenario=scenario,
        load=load,
        entries=entries,
        endpoints=endpoints,
        stations=stations,
        bottleneck=bottleneck,
        saturation_load=sat,
        iterations=sol.iterations,
        ignored=IGNORED,
        consumers=consumers,
    )


def _consumers(network: Network, sol: Solution) -> dict[str, ConsumerEstimate]:
    """Per consumer: its sources' rates, failures and responses, rate-weighted."""
    acc: dict[str, list[float]] = {}
    for src in network.sources:
        if src.consumer is None:
            continue
        x = sol.source_rate[src.name]
        a = acc.setdefault(src.consumer, [0.0, 0.0, 0.0])
        if not x > 0:
            continue
        a[0] += x
        a[1] += x * sol.source_failure.get(src.name, 0.0)
        a[2] += x * sol.source_response.get(src.name, math.nan)
    return {
        name: ConsumerEstimate(
            arrival_rate=x,
            throughput=x - failed,
            error_rate=failed / x if x > 0 else 0.0,
            response_mean=slow / x if x > 0 else 0.0,
        )
        for name, (x, failed, slow) in sorted(acc.items())
    }
