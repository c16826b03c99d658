"""A sweep run inside a run's process: the sweep package's tasks (one replication of one point
each, `sweep.tasks.run_task`) on `job.jobs` processes, a `point` event as each finishes, and the
tidy table with its sensitivity summary as the run's result.

The web app does not start a Dask cluster per sweep: its runs already share the machine through
`--workers`, and a run's process group is what a cancel kills. The table, its columns and the
sensitivity are the sweep package's own (`sweep.output`), so the CLI and the page agree.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from scalesim_patterns.sweep import make_plan, parse_vary, prepare
from scalesim_patterns.sweep.output import columns, sensitivity, table_rows
from scalesim_patterns.sweep.tasks import run_task

__all__ = ["FORMAT", "NOT_METRICS", "run_sweep_job"]

FORMAT = "scalesim.sweep/v1"
NOT_METRICS = frozenset({"point", "replication", "arrivals", "events"})


def _progress(
    done: int, total: int, replications: int, rows: list[dict[str, Any]], end: float
) -> dict[str, Any]:
    return {
        "fraction": round(done / total, 6) if total else 1.0,
        "replication": 0,
        "replications": replications,
        "time": end if done else 0.0,
        "end": end,
        "requests": sum(int(r.get("arrivals") or 0) for r in rows),
        "events": sum(int(r.get("events") or 0) for r in rows),
        "tasks_done": done,
        "tasks": total,
    }


def run_sweep_job(job: Any, out: Any) -> None:
    """Run every task of the sweep `job` describes; report to `out` as the simulate job does."""
    spec = job.sweep
    plan = make_plan([parse_vary(v) for v in spec["vary"]], spec.get("sample"), seed=job.seed or 0)
    replications = int(spec["replications"])
    tasks, sweep_id = prepare(
        job.text,
        f"{job.name}.yaml",
        plan,
        replications=replications,
        seed=job.seed,
        duration=job.duration,
        scenario=job.scenario,
    )
    end = float(spec.get("duration") or 0.0)
    rows: dict[str, dict[str, Any]] = {}
    done_rows: list[dict[str, Any]] = []
    total = len(tasks)
    out.put(("progress", _progress(0, total, replications, done_rows, end)))

    def finished(row: dict[str, Any]) -> None:
        rows[f"{row['point']}:{row['replication']}"] = row
        done_rows.append(row)
        values = plan.points[row["point"]]
        settings = {d.path: v for d, v in zip(plan.dimensions, values, strict=True)}
        out.put(("point", {**row, "settings": settings}))
        out.put(("progress", _progress(len(done_rows), total, replications, done_rows, end)))

    if job.jobs <= 1 or total <= 1:
        for task in tasks:
            finished(run_task(task))
    else:
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else None)
        with ProcessPoolExecutor(max_workers=min(job.jobs, total), mp_context=ctx) as pool:
            pending: set[Future[dict[str, Any]]] = {pool.submit(run_task, t) for t in tasks}
            while pending:
                ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in sorted(ready, key=_key):
                    finished(f.result())
    table = table_rows(plan, rows)
    metrics = [
        c
        for c in columns(plan, table)
        if c not in NOT_METRICS and c not in {d.path for d in plan.dimensions}
    ]
    sens = sensitivity(plan, table, metrics)
    result = {
        "format": FORMAT,
        "architecture": job.name,
        "sweep": sweep_id,
        "scenario": job.scenario,
        "method": plan.method,
        "dimensions": [d.path for d in plan.dimensions],
        "points": [list(p) for p in plan.points],
        "replications": replications,
        "columns": columns(plan, table),
        "rows": table,
        "sensitivity": sens.table,
    }
    out.put(
        ("finished", {"events": [], "result": json.dumps(result, indent=2, sort_keys=False) + "\n"})
    )


def _key(f: Future[dict[str, Any]]) -> tuple[int, int]:
    """Results that finish together are reported in task order (the same order every time)."""
    row = f.result()
    return int(row["point"]), int(row["replication"])
