"""Benchmark: the analytic estimate against the simulator, on every template, and its speed.

For each template (no scenario, the file's traffic) it runs `simulate` (one replication of
`--duration`, warm-up excluded) and `estimate`, and reports the relative error of the estimate
per metric: entry throughput, entry mean response time, service utilisation (busy workers /
workers). Errors are |estimate − simulated| / simulated, summarised per template as the median
and the worst entry or service (figures under 1 % utilisation or 1/s are skipped: their relative
error says nothing).

Speed: `estimate` (without the saturation search, then with it) on a generated 100-service
architecture, against `simulate` of the same file for 10 simulated seconds as the peer measured
in the same run (CPU time, best of --repeat).

    python benchmarks/estimate_accuracy.py                 # every template, 120 s simulated each
    python benchmarks/estimate_accuracy.py --duration 60 --only ecommerce,saga
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from scalesim_patterns.estimate import estimate
from scalesim_patterns.model import Architecture, load
from scalesim_patterns.sim import simulate

TEMPLATES = Path(__file__).resolve().parent.parent / "src/scalesim_patterns/catalog/templates"


def generated(services: int = 100) -> Architecture:
    """A 100-service system: a gateway with 10 routes, each service two endpoints, a database
    each, every service calling up to two later ones (thread and async alternating)."""
    svc: dict[str, Any] = {}
    dbs: dict[str, Any] = {}
    for i in range(services):
        name = f"s{i:03d}"
        later = [f"s{j:03d}" for j in (i * 2 + 1, i * 2 + 2) if j < services]
        steps: list[Any] = [{"query": f"db{i:03d}"}]
        steps += [{"call": f"{t}.read", "probability": 0.5} for t in later]
        svc[name] = {
            "replicas": 2,
            "workers": 8,
            "concurrency": "async" if i % 2 else "thread",
            "endpoints": {
                "read": {
                    "work": {"type": "lognormal", "p50": "2ms", "p99": "10ms"},
                    "steps": steps,
                },
                "write": {
                    "method": "POST",
                    "work": {"type": "exponential", "mean": "3ms"},
                    "steps": [{"query": f"db{i:03d}", "operation": "write"}],
                },
            },
        }
        dbs[f"db{i:03d}"] = {"engine": "postgresql", "owner": name, "pool": 10}
    routes = [{"path": f"/r{k}", "endpoint": f"s{k:03d}.read"} for k in range(10)]
    body = {
        "services": svc,
        "databases": dbs,
        "gateway": {"replicas": 2, "workers": 4, "routes": routes},
        "traffic": {
            "web": {
                "arrival": {"process": "poisson", "rate": "100/s"},
                "mix": [{"route": r["path"]} for r in routes],
            }
        },
        "simulation": {"duration": "10s", "warmup": "1s"},
    }
    return Architecture.model_validate(
        {
            "apiVersion": "scalesim.dev/v1alpha1",
            "kind": "Architecture",
            "metadata": {"name": "hundred"},
            "spec": body,
        }
    )


def _rel(est: float, sim: float) -> float:
    return abs(est - sim) / abs(sim)


def compare_template(path: Path, duration: float) -> dict[str, Any]:
    arch = load(path)
    warmup = min(arch.spec.simulation.warmup, duration / 4)
    result = simulate(arch, duration=duration, warmup=warmup, replications=1, jobs=1)
    est = estimate(arch, headroom=False)
    s = result.summary
    errors: dict[str, dict[str, float]] = {"throughput": {}, "response": {}, "utilisation": {}}
    for name, e in est.entries.items():
        sim_entry = s.entries.get(name)
        if sim_entry is None:
            continue
        thr = sim_entry.throughput.mean
        if thr >= 1.0:
            errors["throughput"][name] = _rel(e.throughput, thr)
        lat = sim_entry.latency.mean
        if lat is not None and lat.mean > 0 and e.response_mean < float("inf"):
            errors["response"][name] = _rel(e.response_mean, lat.mean)
    for name, svc in s.services.items():
        st = est.stations.get(name)
        util = svc.utilisation.mean
        if st is not None and util >= 0.01:
            errors["utilisation"][name] = _rel(st.utilisation, util)
    summary: dict[str, Any] = {"template": path.stem, "saturated": est.saturated}
    for metric, per in errors.items():
        if per:
            worst = max(per, key=lambda k: per[k])
            summary[metric] = {
                "median": statistics.median(per.values()),
                "worst": per[worst],
                "worst_at": worst,
                "n": len(per),
            }
    return summary


def speed(repeat: int) -> dict[str, float]:
    arch = generated()
    best = {"estimate": float("inf"), "estimate_headroom": float("inf"), "simulate_10s": 0.0}
    for _ in range(repeat):
        t = time.process_time()
        estimate(arch, headroom=False)
        best["estimate"] = min(best["estimate"], time.process_time() - t)
        t = time.process_time()
        estimate(arch)
        best["estimate_headroom"] = min(best["estimate_headroom"], time.process_time() - t)
    t = time.process_time()
    simulate(arch, replications=1, jobs=1)
    best["simulate_10s"] = time.process_time() - t
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--only", help="Comma-separated template names.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="Also write the figures as JSON to this file.")
    args = parser.parse_args()
    sp = speed(args.repeat)
    print(
        f"100 services: estimate {sp['estimate'] * 1000:.1f} ms CPU "
        f"({sp['estimate_headroom'] * 1000:.1f} ms with the saturation search); "
        f"simulate 10 s: {sp['simulate_10s']:.2f} s CPU "
        f"({sp['simulate_10s'] / sp['estimate']:,.0f}× the estimate)"
    )
    only = set(args.only.split(",")) if args.only else None
    rows = []
    for path in sorted(TEMPLATES.glob("*.yaml")):
        if path.stem == "index" or (only and path.stem not in only):
            continue
        row = compare_template(path, args.duration)
        rows.append(row)
        cells = []
        for metric in ("throughput", "response", "utilisation"):
            m = row.get(metric)
            cells.append(
                f"{metric} {m['median']:.1%} (worst {m['worst']:.1%} {m['worst_at']})" if m else "-"
            )
        sat = f"  saturated: {','.join(row['saturated'])}" if row["saturated"] else ""
        print(f"{row['template']:<24} " + " | ".join(cells) + sat, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"speed": sp, "templates": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
