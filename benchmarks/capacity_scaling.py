"""Benchmark: the knee of the e-commerce template on 1 and on 2 Dask workers, and what Dask
costs a search.

A capacity search is sequential (each candidate depends on the verdict before), so its
parallelism is the replications of one candidate: with `--replications 4` two workers can
halve a candidate's wall time, a third would have nothing more to do. The search runs
exactly as `scalesim capacity --knee` runs it (`knee`, journal in memory), on a LocalCluster of
single-threaded worker processes started apart (its start-up is reported apart).

Reported per worker count: wall time of the search, candidates, wall per candidate, and the
same steps on both (the search must not depend on the workers). Then what Dask adds to each
candidate: the round trip of an empty task submitted and awaited one at a time (what a
sequential search pays per candidate on top of its simulations), median of 100.

    python benchmarks/capacity_scaling.py                  # 4 replications of 10 s each
    python benchmarks/capacity_scaling.py --duration 5     # quicker
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack
from typing import Any

from scalesim_patterns.sweep.capacity import Cluster, knee
from scalesim_patterns.sweep.cluster import connect
from sweep_scaling import TEMPLATE, _noop  # the same template and empty task as the sweep's


def one(workers: int, duration: float, replications: int) -> dict[str, Any]:
    with ExitStack() as stack:
        t0 = time.perf_counter()
        client = stack.enter_context(connect(None, workers))  # the LocalCluster capacity starts
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = knee(
            TEMPLATE.read_text(encoding="utf-8"),
            replications=replications,
            duration=duration,
            warmup=min(3.0, duration / 4),
            cluster=Cluster(client=client),
        )
        wall = time.perf_counter() - t0
        trips = []
        for i in range(100):
            t1 = time.perf_counter()
            client.submit(_noop, i, pure=False).result()
            trips.append(time.perf_counter() - t1)
    return {
        "workers": workers,
        "startup": startup,
        "wall": wall,
        "candidates": result.simulations,
        "steps": result.steps,
        "round_trip": statistics.median(trips),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("--replications", type=int, default=4)
    args = parser.parse_args()
    results = [one(w, args.duration, args.replications) for w in (1, 2)]
    print(
        "| workers | search wall | candidates | per candidate | empty-task round trip | cluster start |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['workers']} | {r['wall']:.1f} s | {r['candidates']} | "
            f"{r['wall'] / r['candidates']:.2f} s | {r['round_trip'] * 1e3:.1f} ms | "
            f"{r['startup']:.1f} s |"
        )
    print(f"speed-up 2 vs 1 worker: {results[0]['wall'] / results[1]['wall']:.2f}x")
    same = results[0]["steps"] == results[1]["steps"]
    print(f"same steps on 1 and 2 workers: {same}")
    if not same:
        raise SystemExit("the search depends on the worker count")


if __name__ == "__main__":
    main()
