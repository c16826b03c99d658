"""The costs an architecture file cannot know, measured on this machine by a probe system.

The file gives each endpoint's own work and each database's latency in production; a local run
adds what the file says nothing about: the load client and the service framework on every
request, the HTTP client and framework on every call between services, and the driver and local
server on every query and publish. The probe is a generated system of its own (two services,
one database of each engine and one broker of each type the design uses, all work zero), run on
the same servers at the same time as the design, so that it measures the costs under the same
load on the machine, with endpoints that differ by one cost each:

| probe endpoint | measures | written into the copy as |
|---|---|---|
| `probe-front.nop` | client + framework round trip | `network.entryLatency` (half, each way) |
| `probe-front.call` − `nop` | one call to another service | `network.hopLatency` (half, each way) |
| `probe-front.read-<engine>` − `nop` | one read query | `databases.<db>.latency.read` |
| `probe-front.write-<engine>` − `nop` | one write query | `databases.<db>.latency.write` |
| `probe-front.publish-<type>` − `nop` | one acknowledged publish | `brokers.<b>.publishLatency` |

A difference of two measured distributions is taken quantile by quantile (an approximation that
is exact for a constant shift), clipped at zero and kept non-decreasing, and written as an
`empirical` percentile table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from scalesim_patterns.catalog.setpath import Edit, apply_sets
from scalesim_patterns.generate.code.spec import SUPPORTED_ENGINES
from scalesim_patterns.model import Architecture

__all__ = ["Costs", "Table", "apply_costs", "derive_costs", "probe_text"]

Table = dict[str, float]
"""An empirical percentile table in seconds: `min`, `p1` … `p99.9`, `max`."""

FRONT = "probe-front"


def _key(table_key: str) -> float:
    if table_key == "min":
        return 0.0
    if table_key == "max":
        return 101.0
    return float(table_key[1:])


def difference(a: Table, b: Table) -> Table:
    """`a` − `b` quantile by quantile, clipped at 0 and made non-decreasing."""
    out: Table = {}
    floor = 0.0
    for key in sorted(a, key=_key):
        floor = max(floor, a[key] - b.get(key, 0.0))
        out[key] = floor
    return out


def half(a: Table) -> Table:
    return {k: v / 2 for k, v in a.items()}


@dataclass
class Costs:
    """What the probe measured, as percentile tables (seconds)."""

    entry: Table
    """One way between the load client and a service (half the measured round trip)."""
    hop: Table
    """One way of a call between two services (half the call's measured extra cost)."""
    queries: dict[tuple[str, str], Table] = field(default_factory=dict)
    """(engine, read|write) → one query's cost."""
    publishes: dict[str, Table] = field(default_factory=dict)
    """Broker type → one acknowledged publish."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "hop": self.hop,
            "queries": {f"{e}.{op}": t for (e, op), t in sorted(self.queries.items())},
            "publishes": dict(sorted(self.publishes.items())),
        }


def _engines(arch: Architecture, skipped: dict[str, str]) -> list[str]:
    found = {
        db.engine
        for key, db in arch.spec.databases.items()
        if key not in skipped and db.engine in SUPPORTED_ENGINES
    }
    if any(c.engine == "redis" and k not in skipped for k, c in arch.spec.caches.items()):
        found.add("redis")  # a cache GET costs what a Redis read query does
    return sorted(found)


def _broker_types(arch: Architecture, skipped: dict[str, str]) -> list[str]:
    return sorted({b.type for key, b in arch.spec.brokers.items() if key not in skipped})


def probe_text(arch: Architecture, skipped: dict[str, str], rate: float) -> str:
    """The probe system for the engines and brokers `arch` uses (as YAML-compatible JSON)."""
    endpoints: dict[str, Any] = {
        "nop": {"method": "POST", "work": "0s"},
        "call": {"method": "POST", "work": "0s", "steps": [{"call": "probe-back.nop"}]},
    }
    databases: dict[str, Any] = {}
    for engine in _engines(arch, skipped):
        db = f"probe-{engine}"
        databases[db] = {"engine": engine, "owner": FRONT, "pool": 10}
        for op in ("read", "write"):
            endpoints[f"{op}-{engine}"] = {
                "method": "POST",
                "work": "0s",
                "steps": [{"query": db, "operation": op}],
            }
    brokers: dict[str, Any] = {}
    for kind in _broker_types(arch, skipped):
        brokers[f"probe-{kind}"] = {
            "type": kind,
            "replicas": 1,
            "topics": {
                f"probe-{kind}": {"consumers": [{"service": "probe-back", "endpoint": "nop"}]}
            },
        }
        endpoints[f"publish-{kind}"] = {
            "method": "POST",
            "work": "0s",
            "steps": [{"publish": f"probe-{kind}"}],
        }
    doc = {
        "apiVersion": "scalesim.dev/v1alpha1",
        "kind": "Architecture",
        "metadata": {"name": "calibration-probe"},
        "spec": {
            "services": {
                FRONT: {"concurrency": "async", "workers": 64, "endpoints": endpoints},
                "probe-back": {
                    "concurrency": "async",
                    "workers": 64,
                    "endpoints": {"nop": {"method": "POST", "work": "0s"}},
                },
            },
            "databases": databases,
            "brokers": brokers,
            "traffic": {
                "probe": {
                    "type": "open",
                    "arrival": {"process": "poisson", "rate": f"{rate:g}/s"},
                    "mix": [{"endpoint": f"{FRONT}.{e}"} for e in endpoints],
                }
            },
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def derive_costs(measured: dict[str, Any]) -> Costs:
    """The costs from the probe's measured results (entries with `quantiles` tables)."""
    entries = measured["runs"][0]["report"]["entries"]

    def table(endpoint: str) -> Table:
        got = entries[f"{FRONT}.{endpoint}"]
        tab = got.get("quantiles")
        if not tab:
            raise ValueError(f"the probe's {endpoint} endpoint answered no request successfully")
        return {k: float(v) for k, v in tab.items()}

    nop = table("nop")
    costs = Costs(entry=half(nop), hop=half(difference(table("call"), nop)))
    for key in sorted(entries):
        name = key.removeprefix(f"{FRONT}.")
        op, _, kind = name.partition("-")
        if op in ("read", "write"):
            costs.queries[(kind, op)] = difference(table(name), nop)
        elif op == "publish":
            costs.publishes[kind] = difference(table(name), nop)
    return costs


def _dist(table: Table) -> dict[str, Any]:
    return {"type": "empirical", "percentiles": {k: f"{v * 1000:.4f}ms" for k, v in table.items()}}


def apply_costs(
    text: str, arch: Architecture, costs: Costs, skipped: dict[str, str], filename: str
) -> str:
    """`text` (the twin) with the measured costs written in."""

    def edit(path: tuple[str | int, ...], value: Any) -> Edit:
        return Edit(".".join(map(str, path)), path, value, raw_value=True)

    edits = [
        edit(("network", "entryLatency"), _dist(costs.entry)),
        edit(("network", "hopLatency"), _dist(costs.hop)),
    ]
    for key, db in sorted(arch.spec.databases.items()):
        if key in skipped:
            continue
        for op in ("read", "write"):
            table = costs.queries.get((db.engine, op))
            if table is not None:
                edits.append(edit(("databases", key, "latency", op), _dist(table)))
    for key, cache in sorted(arch.spec.caches.items()):
        table = costs.queries.get(("redis", "read"))
        if key not in skipped and cache.engine == "redis" and table is not None:
            edits.append(edit(("caches", key, "latency"), _dist(table)))
    for key, broker in sorted(arch.spec.brokers.items()):
        table = costs.publishes.get(broker.type)
        if key not in skipped and table is not None:
            edits.append(edit(("brokers", key, "publishLatency"), _dist(table)))
    return apply_sets(text, edits, filename)
