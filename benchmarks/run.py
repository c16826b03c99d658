"""Benchmark: the reference model in ScaleSim (full engine, from an Architecture) and in SimPy.

The reference model is five services in series, 4 workers each, exponential work of mean 10 ms,
Poisson arrivals at 280/s (70 % utilisation per station). ScaleSim builds it as an
`Architecture` and runs it through `simulate` exactly as the product does (statistics, time
series and all); SimPy runs the same model written the idiomatic way (a `Resource` per service
and a process per request).

Every measurement runs in a fresh interpreter so its peak memory is its own: the figure is the
peak resident set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) of that process, which
includes the interpreter and imported libraries (pydantic for ScaleSim). A second ScaleSim run
with ten times the requests shows that memory does not grow with the request count.

    python benchmarks/run.py            # 1 M requests each, plus 10 M in ScaleSim
    python benchmarks/run.py --quick    # 100 k requests, plus 1 M in ScaleSim
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scalesim(requests: int) -> dict[str, Any]:
    from reference import reference_architecture
    from scalesim_patterns.sim import simulate

    arch = reference_architecture(requests)
    start = time.perf_counter()
    result = simulate(arch)
    wall = time.perf_counter() - start
    run = result.runs[0]
    latency = run.report.totals.latency
    return {
        "engine": "scalesim",
        "requests": int(run.report.totals.count),
        "events": run.events,
        "wall": wall,
        "mean_latency": latency.mean,
        "p99_latency": latency.p99,
        "peak_rss_mib": _peak_rss_mib(),
    }


def run_simpy(requests: int) -> dict[str, Any]:
    import random

    import simpy

    from reference import MEAN_WORK, RATE, SERVICES, WORKERS

    env = simpy.Environment()
    rng = random.Random(1)
    stations = [simpy.Resource(env, capacity=WORKERS) for _ in range(SERVICES)]
    done = [0, 0.0]

    def request(env: simpy.Environment) -> Any:
        start = env.now
        for station in stations:
            with station.request() as slot:
                yield slot
                yield env.timeout(rng.expovariate(1 / MEAN_WORK))
        done[0] += 1
        done[1] += env.now - start

    def source(env: simpy.Environment) -> Any:
        while True:
            yield env.timeout(rng.expovariate(RATE))
            env.process(request(env))

    env.process(source(env))
    start = time.perf_counter()
    env.run(until=requests / RATE)
    wall = time.perf_counter() - start
    return {
        "engine": "simpy",
        "requests": done[0],
        "events": next(env._eid),  # events SimPy scheduled (its internal counter)
        "wall": wall,
        "mean_latency": done[1] / done[0] if done[0] else None,
        "p99_latency": None,
        "peak_rss_mib": _peak_rss_mib(),
    }


def measure(engine: str, requests: int) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", engine, str(requests)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def show(row: dict[str, Any]) -> None:
    rps = row["requests"] / row["wall"]
    eps = row["events"] / row["wall"]
    mean = row["mean_latency"]
    print(
        f"{row['engine']:>9} {row['requests']:>11,} req {row['wall']:8.1f} s "
        f"{rps:>11,.0f} req/s {eps:>12,.0f} events/s  peak RSS {row['peak_rss_mib']:7.1f} MiB"
        f"  mean latency {mean * 1000 if mean else float('nan'):.2f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100 k requests (and 1 M for memory)")
    parser.add_argument("--requests", type=int, help="requests for the speed comparison")
    parser.add_argument("--big", type=int, help="requests for the memory run (default 10x)")
    parser.add_argument("--no-simpy", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "REQUESTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, n = args.child[0], int(args.child[1])
        row = run_scalesim(n) if engine == "scalesim" else run_simpy(n)
        print(json.dumps(row))
        return
    requests = args.requests or (100_000 if args.quick else 1_000_000)
    big = args.big or 10 * requests
    print(
        "Reference model: 5 services in series x 4 workers, exp(10 ms) work, Poisson 280/s "
        "(70 % utilisation)."
    )
    print("Peak RSS = getrusage(RUSAGE_SELF).ru_maxrss of a fresh interpreter per run.")
    ours = measure("scalesim", requests)
    show(ours)
    if not args.no_simpy:
        theirs = measure("simpy", requests)
        show(theirs)
        ratio = (ours["requests"] / ours["wall"]) / (theirs["requests"] / theirs["wall"])
        print(f"speed ratio ScaleSim / SimPy: {ratio:.2f}x (requests per second)")
    large = measure("scalesim", big)
    show(large)
    print(
        f"memory: {ours['peak_rss_mib']:.1f} MiB at {requests:,} requests, "
        f"{large['peak_rss_mib']:.1f} MiB at {big:,} requests"
    )


if __name__ == "__main__":
    main()
