"""The sweep's results as a person uses them: a tidy table, plots, and which setting matters.

The table has one row per point and replication: `point`, `replication`, one column per varied
path (its value as typed), then every metric (`tasks.metrics`). CSV and Parquet hold the same
rows, sorted by point then replication, so the same sweep gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Sequence
from typing import Any

from .plan import Plan

__all__ = [
    "Sensitivity",
    "columns",
    "parquet_bytes",
    "plots",
    "sensitivity",
    "table_csv",
    "table_rows",
]


def table_rows(plan: Plan, rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the varied values in, sorted by (point, replication)."""
    out = []
    for key in sorted(rows, key=lambda k: tuple(int(x) for x in k.split(":"))):
        row = rows[key]
        values = plan.points[row["point"]]
        full = {"point": row["point"], "replication": row["replication"]}
        full.update({d.path: v for d, v in zip(plan.dimensions, values, strict=True)})
        full.update({k: v for k, v in row.items() if k not in ("point", "replication")})
        out.append(full)
    return out


def columns(plan: Plan, rows: Sequence[dict[str, Any]]) -> list[str]:
    head = ["point", "replication", *(d.path for d in plan.dimensions)]
    rest: dict[str, None] = {}
    for row in rows:
        for k in row:
            if k not in head:
                rest.setdefault(k)
    return head + sorted(rest)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def table_csv(plan: Plan, rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    cols = columns(plan, rows)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in cols])
    return buf.getvalue()


def parquet_bytes(plan: Plan, rows: Sequence[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = columns(plan, rows)
    dims = {d.path for d in plan.dimensions}
    arrays = {}
    for c in cols:
        values = [row.get(c) for row in rows]
        if c in dims:
            arrays[c] = pa.array(values, type=pa.string())
        elif c in ("point", "replication", "arrivals", "events"):
            arrays[c] = pa.array(values, type=pa.int64())
        else:
            arrays[c] = pa.array(
                [None if v is None else float(v) for v in values], type=pa.float64()
            )
    table = pa.table(arrays)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _means(plan: Plan, rows: Sequence[dict[str, Any]], metric: str) -> dict[int, float]:
    by_point: dict[int, list[float]] = {}
    for row in rows:
        v = row.get(metric)
        if isinstance(v, int | float) and math.isfinite(v):
            by_point.setdefault(row["point"], []).append(float(v))
    return {p: statistics.fmean(vs) for p, vs in by_point.items()}


class Sensitivity:
    """For each metric, the share of its variation over the points that each varied setting
    explains: on a grid the main-effect share of variance (the correlation ratio η², variance
    of the per-value means over the total); on a sample, the squared Spearman rank correlation.
    """

    def __init__(self, table: dict[str, dict[str, float]]) -> None:
        self.table = table

    def strongest(self, metric: str) -> tuple[str, float] | None:
        shares = self.table.get(metric)
        if not shares:
            return None
        path = max(shares, key=lambda p: shares[p])
        return path, shares[path]

    def text(self) -> str:
        lines = ["metric: the setting that moves it most (share of its variation); others"]
        for metric in sorted(self.table):
            shares = self.table[metric]
            order = sorted(shares, key=lambda p: -shares[p])
            rest = ", ".join(f"{p} {shares[p]:.0%}" for p in order[1:])
            lines.append(
                f"{metric}: {order[0]} ({shares[order[0]]:.0%})" + (f"; {rest}" if rest else "")
            )
        return "\n".join(lines) + "\n"


def sensitivity(plan: Plan, rows: Sequence[dict[str, Any]], metrics: Sequence[str]) -> Sensitivity:
    table: dict[str, dict[str, float]] = {}
    for metric in metrics:
        means = _means(plan, rows, metric)
        if len(means) < 2:
            continue
        ys = list(means.values())
        total = statistics.pvariance(ys)
        if total <= 0:
            continue
        shares: dict[str, float] = {}
        for k, dim in enumerate(plan.dimensions):
            if plan.method == "grid":
                groups: dict[str, list[float]] = {}
                for p, y in means.items():
                    groups.setdefault(plan.points[p][k], []).append(y)
                grand = statistics.fmean(ys)
                between = sum(len(g) * (statistics.fmean(g) - grand) ** 2 for g in groups.values())
                shares[dim.path] = between / len(ys) / total
            else:
                from scipy.stats import spearmanr

                xs = [dim.numeric(plan.points[p][k]) for p in means]
                if any(x is None for x in xs) or len(set(xs)) < 2:
                    continue
                rho = spearmanr(xs, ys).statistic
                shares[dim.path] = float(rho) ** 2 if math.isfinite(rho) else 0.0
        if shares:
            table[metric] = shares
    return Sensitivity(table)


def _save(fig: Any, name: str, out: dict[str, bytes]) -> None:
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        # no date or version in the files: the same sweep gives the same bytes
        meta: dict[str, Any] = {"Date": None} if ext == "svg" else {"Software": None}
        fig.savefig(buf, format=ext, metadata=meta)
        out[f"{name}.{ext}"] = buf.getvalue()


def plots(plan: Plan, rows: Sequence[dict[str, Any]], entries: Sequence[str]) -> dict[str, bytes]:
    """p99 and throughput against the first numeric setting (one line per entry, and per value
    of a second setting when there is one); a heat map of total p99 over two settings."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "scalesim"  # fixed ids: the same sweep, the same SVG
    import matplotlib.pyplot as plt

    written: dict[str, bytes] = {}
    numeric = [
        k
        for k, d in enumerate(plan.dimensions)
        if all(d.numeric(p[k]) is not None for p in plan.points)
    ]
    if not numeric:
        return written
    x_dim = numeric[-1] if len(plan.dimensions) > 1 else numeric[0]
    xd = plan.dimensions[x_dim]
    for metric, label, scale in (
        ("p99", "p99 latency (ms)", 1000.0),
        ("throughput", "throughput (requests/s)", 1.0),
    ):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for entry in entries:
            name = f"{entry}:{metric}"
            means = _means(plan, rows, name)
            series: dict[str, list[tuple[float, float]]] = {}
            for p, y in means.items():
                others = ", ".join(
                    f"{d.path.rsplit('.', 1)[-1]}={plan.points[p][k]}"
                    for k, d in enumerate(plan.dimensions)
                    if k != x_dim
                )
                x = xd.numeric(plan.points[p][x_dim])
                assert x is not None
                series.setdefault(others, []).append((x, y * scale))
            for others, pts in sorted(series.items()):
                pts.sort()
                ax.plot(
                    [a for a, _ in pts],
                    [b for _, b in pts],
                    marker="o",
                    label=f"{entry} {others}".strip(),
                )
        ax.set_xlabel(xd.path + (f" ({xd.unit})" if xd.unit else ""))
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        _save(fig, metric, written)
        plt.close(fig)
    if plan.method == "grid" and len(numeric) >= 2:
        a, b = plan.dimensions[numeric[0]], plan.dimensions[numeric[1]]
        av = sorted({a.numeric(p[numeric[0]]) or 0.0 for p in plan.points})
        bv = sorted({b.numeric(p[numeric[1]]) or 0.0 for p in plan.points})
        grid = [[math.nan] * len(av) for _ in bv]
        cells: dict[tuple[int, int], list[float]] = {}
        for p, y in _means(plan, rows, "p99").items():
            i = bv.index(b.numeric(plan.points[p][numeric[1]]) or 0.0)
            j = av.index(a.numeric(plan.points[p][numeric[0]]) or 0.0)
            cells.setdefault((i, j), []).append(y * 1000)
        for (i, j), ys in cells.items():
            grid[i][j] = statistics.fmean(ys)
        fig, ax = plt.subplots(figsize=(7, 5))
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(av)), [f"{v:g}" for v in av])
        ax.set_yticks(range(len(bv)), [f"{v:g}" for v in bv])
        ax.set_xlabel(a.path)
        ax.set_ylabel(b.path)
        fig.colorbar(im, ax=ax, label="p99 latency, all entries (ms)")
        fig.tight_layout()
        _save(fig, "heatmap", written)
        plt.close(fig)
    return written
