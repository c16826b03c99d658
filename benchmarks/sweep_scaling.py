"""Benchmark: a 100-point sweep of the e-commerce template on 1 and on 2 Dask workers.

The sweep varies `services.order.replicas` over 1..4 and the shoppers' rate over 25 values
(200/s..1000/s), one replication of `--duration` simulated seconds each, exactly as `scalesim
sweep` runs it (`run_sweep`, journal and outputs included). Each configuration gets its own
LocalCluster of single-threaded worker processes; cluster start-up is reported apart.

Reported: wall time of the tasks per configuration (the points are checked first, timed
apart, as is a whole `run_sweep` with its outputs) and the speed-up (1 worker / 2 workers), the compute
time the workers spent in tasks (Dask's task stream), and the scheduler overhead per task:
(wall × workers − compute) / tasks, i.e. the worker time not spent simulating. A second figure
for the overhead alone: 200 empty tasks through the same cluster, wall per task.

    python benchmarks/sweep_scaling.py                # 100 points, 5 s simulated each
    python benchmarks/sweep_scaling.py --duration 2   # quicker
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from scalesim_patterns.sweep import make_plan, parse_vary, prepare, run_sweep
from scalesim_patterns.sweep.cluster import run_tasks

TEMPLATE = (
    Path(__file__).resolve().parent.parent
    / "src/scalesim_patterns/catalog/templates/ecommerce.yaml"
)


def _noop(i: int) -> int:
    return i


def one(workers: int, duration: float) -> dict[str, float]:
    from distributed import Client, LocalCluster, get_task_stream

    text = TEMPLATE.read_text(encoding="utf-8")
    plan = make_plan(
        [
            parse_vary("services.order.replicas=1..4:4"),
            parse_vary("traffic.shoppers.arrival.rate=200/s..1000/s:25"),
        ]
    )
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    startup = time.perf_counter() - t0
    try:
        # warm the workers (imports) so both configurations start equal
        client.gather(client.map(_noop, range(workers * 2)))
        t = time.perf_counter()
        tasks, sweep_id = prepare(
            text, "ecommerce.yaml", plan, replications=1, duration=duration, warmup=duration / 10
        )
        checking = time.perf_counter() - t
        rows: list[dict[str, object]] = []
        with get_task_stream(client) as stream:
            t = time.perf_counter()
            run_tasks(client, tasks, rows.append, sweep_id)
            wall = time.perf_counter() - t
        assert len(rows) == len(tasks)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            run_sweep(text, "ecommerce.yaml", plan, tmp, duration=duration, warmup=duration / 10,
                      client=client)  # fmt: skip
            whole = time.perf_counter() - t
        compute = sum(
            s["stop"] - s["start"]
            for rec in stream.data
            if rec["key"].startswith("scalesim-")
            for s in rec["startstops"]
            if s["action"] == "compute"
        )
        t = time.perf_counter()
        client.gather(client.map(_noop, range(200), pure=False))
        empty = (time.perf_counter() - t) / 200
    finally:
        client.close()
        cluster.close()
    tasks = len(plan.points)
    return {
        "workers": workers,
        "startup": startup,
        "checking": checking,
        "wall": wall,
        "whole": whole,
        "compute": compute,
        "overhead_per_task": (wall * workers - compute) / tasks,
        "empty_task": empty,
        "tasks": tasks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    results = [one(w, args.duration) for w in (1, 2)]
    for r in results:
        print(
            f"{r['workers']:.0f} worker(s): {r['tasks']:.0f} runs in {r['wall']:.1f} s wall "
            f"(cluster start {r['startup']:.1f} s, checking the points {r['checking']:.1f} s; "
            f"the whole `run_sweep` with outputs {r['whole']:.1f} s), "
            f"{r['compute']:.1f} s computing; "
            f"overhead {r['overhead_per_task'] * 1000:.0f} ms per task; "
            f"empty task {r['empty_task'] * 1000:.1f} ms",
            flush=True,
        )
    print(f"speed-up 2 vs 1 worker: {results[0]['wall'] / results[1]['wall']:.2f}x")


if __name__ == "__main__":
    main()
