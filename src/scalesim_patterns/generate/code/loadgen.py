"""`scalesim load`'s driver: the architecture's own traffic, sent with Locust as a library.

Run as its own process (`python -m scalesim_patterns.generate.code.loadgen PLAN OUT`) because
Locust runs on gevent, which must patch the standard library before anything else imports it.

Open-loop sources are true open loops: arrivals are drawn from the file's process (non-homogeneous
Poisson by thinning over `rate_function`, the simulator's own rate curve; `constant` at fixed
intervals) and each request gets its own greenlet, whether or not earlier ones have answered.
Closed-loop sources are `users` greenlets, each sending, waiting for the answer, then thinking for
a draw of `thinkTime`. Requests go through Locust's `HttpSession` (so Locust's statistics and
request events see them); latencies and failure causes (`x-scalesim-cause`) are also kept per
request, for exact percentiles.
"""

from __future__ import annotations

from gevent import monkey  # type: ignore[import-untyped]

monkey.patch_all()

import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust.clients import HttpSession  # noqa: E402
from locust.env import Environment  # noqa: E402

from scalesim_patterns.model import load  # noqa: E402
from scalesim_patterns.model.traffic import ConstantArrival, OpenLoop  # noqa: E402
from scalesim_patterns.sim.core.rng import sampler  # noqa: E402
from scalesim_patterns.sim.network.traffic import rate_function  # noqa: E402

CAUSES = ("error", "timeout", "rejected", "unavailable", "circuit_open", "bulkhead_full",
          "rate_limited", "unauthorized")  # fmt: skip


class Recorder:
    def __init__(self, start: float, warmup: float, duration: float) -> None:
        self.start = start
        self.warmup = warmup
        self.duration = duration
        self.rows: dict[str, list[tuple[float, float, str | None]]] = {}
        self.sent: dict[str, int] = {}

    def measured(self, t: float) -> bool:
        return self.warmup <= t - self.start <= self.duration


def _cause(status: int, header: str | None) -> str | None:
    if 200 <= status < 400:
        return None
    if header in CAUSES:
        return header
    if status == 0:
        return "unavailable"
    return {504: "timeout", 429: "rate_limited", 503: "unavailable", 401: "unauthorized"}.get(
        status, "error"
    )


def _send(session: HttpSession, entry: dict[str, Any], rec: Recorder) -> None:
    sent = time.monotonic()
    if rec.measured(sent):
        rec.sent[entry["key"]] = rec.sent.get(entry["key"], 0) + 1
    # A source sending as a consumer says who it is the way Kong would tell the services
    # (X-Consumer-Username): their priority admission and per-tenant bulkheads read it.
    consumer = entry.get("consumer")
    headers = {"x-consumer-username": consumer} if consumer else None
    with session.request(
        entry["method"], entry["path"], name=entry["key"], json={}, catch_response=True,
        timeout=30, headers=headers,
    ) as response:  # fmt: skip
        status = response.status_code or 0
        cause = _cause(
            status, response.headers.get("x-scalesim-cause") if response.headers else None
        )
        if cause is None:
            response.success()
        else:
            response.failure(cause)
    done = time.monotonic()
    if rec.measured(done):
        rec.rows.setdefault(entry["key"], []).append((sent, done - sent, cause))


def _pick(entries: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    total = sum(e["weight"] for e in entries)
    u = rng.random() * total
    for e in entries:
        u -= e["weight"]
        if u <= 0:
            return e
    return entries[-1]


def run(plan: dict[str, Any]) -> dict[str, Any]:
    arch = load(plan["file"])
    env = Environment()
    duration, warmup = plan["duration"], plan["warmup"]
    rng = random.Random(plan["seed"])
    start = time.monotonic()
    sys.stderr.write(f"started {start!r}\n")  # the time origin, for faults scheduled by the parent
    sys.stderr.flush()
    rec = Recorder(start, warmup, duration)
    sessions: dict[str, HttpSession] = {}

    def session(base: str) -> HttpSession:
        if base not in sessions:
            sessions[base] = HttpSession(base, env.events.request, None)
        return sessions[base]

    def fire(entry: dict[str, Any]) -> None:
        _send(session(entry["base"]), entry, rec)

    greenlets = []
    for name, source in sorted(arch.spec.traffic.items()):
        entries = plan["sources"][name]
        if source.consumer is not None:
            entries = [{**e, "consumer": source.consumer} for e in entries]
        if isinstance(source, OpenLoop):
            rate, peak = rate_function(source.arrival, plan["scale"])

            def arrivals(
                entries: list[dict[str, Any]] = entries, rate: Any = rate, peak: float = peak,
                fixed: bool = isinstance(source.arrival, ConstantArrival),
            ) -> None:  # fmt: skip
                t = 0.0
                while peak > 0:
                    t += 1.0 / peak if fixed else rng.expovariate(peak)
                    if t > duration:
                        return
                    if not fixed and rng.random() * peak > rate(t):
                        continue  # thinning: keep an arrival with probability rate(t)/peak
                    delay = start + t - time.monotonic()
                    if delay > 0:
                        gevent.sleep(delay)
                    gevent.spawn(fire, _pick(entries, rng))

            greenlets.append(gevent.spawn(arrivals))
        else:
            think = sampler(source.think_time, random.Random(rng.random()))

            def user(entries: list[dict[str, Any]] = entries, think: Any = think) -> None:
                while time.monotonic() - start < duration:
                    fire(_pick(entries, rng))
                    gevent.sleep(think())

            greenlets.extend(gevent.spawn(user) for _ in range(source.users))

    last = -1
    while time.monotonic() - start < duration:
        gevent.sleep(0.25)
        second = int(time.monotonic() - start)
        if second != last:
            last = second
            total = env.stats.total
            sys.stderr.write(
                f"progress {min(second, int(duration))}/{int(duration)} "
                f"{total.num_requests} {total.num_failures}\n"
            )
            sys.stderr.flush()
    gevent.joinall(greenlets, timeout=30)
    gevent.sleep(0)
    return _results(arch.name, plan, rec)


def _quantile(values: list[float], q: float) -> float:
    """The sample quantile by linear interpolation (numpy's default)."""
    if len(values) == 1:
        return values[0]
    pos = q * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
"""The latency table a plan with `quantiles: true` adds per entry (`scalesim calibrate`)."""


def _table(ok: list[float]) -> dict[str, float]:
    table = {"min": ok[0]}
    table.update({f"p{q * 100:g}": _quantile(ok, q) for q in QUANTILES})
    table["max"] = ok[-1]
    return table


def _report(rows: list[tuple[float, float, str | None]], sent: int, span: float) -> dict[str, Any]:
    ok = sorted(lat for _, lat, cause in rows if cause is None)
    errors = {c: sum(1 for _, _, cause in rows if cause == c) for c in CAUSES}
    latency: dict[str, float | None] = {
        k: None for k in ("mean", "p50", "p90", "p95", "p99", "p999", "max")
    }
    if ok:
        latency = {
            "mean": sum(ok) / len(ok),
            "p50": _quantile(ok, 0.5),
            "p90": _quantile(ok, 0.9),
            "p95": _quantile(ok, 0.95),
            "p99": _quantile(ok, 0.99),
            "p999": _quantile(ok, 0.999),
            "max": ok[-1],
        }
    count = len(rows)
    return {
        "count": count,
        "ok": len(ok),
        "throughput": count / span,
        "error_rate": (count - len(ok)) / count if count else 0.0,
        "errors": errors,
        "latency": latency,
        "arrivals": sent,
    }


def _estimate(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _estimate(v) for k, v in value.items()}
    return {"mean": value, "ci95": None, "n": 1}


def _results(name: str, plan: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    span = plan["duration"] - plan["warmup"]
    keys = sorted({e["key"] for es in plan["sources"].values() for e in es})
    entries = {key: _report(rec.rows.get(key, []), rec.sent.get(key, 0), span) for key in keys}
    if plan.get("quantiles"):
        for key in keys:
            ok = sorted(lat for _, lat, cause in rec.rows.get(key, []) if cause is None)
            entries[key]["quantiles"] = _table(ok) if ok else None
    every = [row for rows in rec.rows.values() for row in rows]
    report = {
        "totals": _report(every, sum(rec.sent.values()), span),
        "entries": entries,
        "services": {},
        "gateway": None,
        "databases": {},
        "topics": {},
    }
    return {
        "format": "scalesim.results/v1",
        "architecture": name,
        "scenario": None,
        "measured": True,
        "config": {
            "seed": plan["seed"],
            "duration": plan["duration"],
            "warmup": plan["warmup"],
            "window": None,
            "replications": 1,
        },
        "notes": plan["notes"],
        "summary": {
            "totals": _estimate(report["totals"]),
            "entries": {k: _estimate(v) for k, v in entries.items()},
            "services": {},
            "gateway": None,
            "databases": {},
            "topics": {},
        },
        "runs": [{"replication": 0, "events": None, "report": report, "timeseries": None}],
    }


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    Path(sys.argv[2]).write_text(json.dumps(run(plan), indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
