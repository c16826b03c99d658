"""Call graphs with feedback: strongly connected parts, and whether a loop ends.

A request that calls back up the graph with probability < 1 (an open Jackson network's feedback,
a retry-by-design, a recursive lookup) ends with probability one exactly when the expected number
of visits is finite. With M[i][j] the mean number of calls endpoint i makes to endpoint j per
visit, the visits v solve v = s + Mᵀv; the series Σ (Mᵀ)ⁿ s converges iff the spectral radius of
M is below 1, which for a non-negative matrix holds iff I − M is invertible with a non-negative
inverse (an M-matrix). So solving (I − Mᵀ) v = s and checking v ≥ 0 both decides termination
and gives the visit rates — no eigenvalues needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

__all__ = ["Graph", "components", "is_loop", "solve_visits", "terminates"]

Graph = dict[str, list[tuple[str, float]]]
"""Endpoint → (callee, mean calls per visit)."""


def components(graph: Graph) -> Iterator[list[str]]:
    """Strongly connected components (Tarjan, iterative), callees' components first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[tuple[str, float]]]] = [(root, iter(graph.get(root, [])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt, _ in edges:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, []))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part: list[str] = []
                while True:
                    top = stack.pop()
                    on.discard(top)
                    part.append(top)
                    if top == node:
                        break
                yield sorted(part)


def is_loop(graph: Graph, part: list[str]) -> bool:
    """A component with a cycle: more than one endpoint, or one that calls itself."""
    return len(part) > 1 or any(t == part[0] for t, _ in graph.get(part[0], []))


def solve_visits(
    graph: Graph, part: list[str], inflow: dict[str, float]
) -> dict[str, float] | None:
    """Visit rates inside a component given the rates flowing in from outside it; None when the
    loop does not end (spectral radius ≥ 1: the system is singular or the solution negative)."""
    n = len(part)
    pos = {name: i for i, name in enumerate(part)}
    # (I − Mᵀ) v = inflow, as an augmented matrix.
    a = [[0.0] * (n + 1) for _ in range(n)]
    for i in range(n):
        a[i][i] = 1.0
        a[i][n] = inflow.get(part[i], 0.0)
    for src in part:
        for dst, mult in graph.get(src, []):
            if dst in pos:
                a[pos[dst]][pos[src]] -= mult
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0.0:
                f = a[r][col] / a[col][col]
                for c in range(col, n + 1):
                    a[r][c] -= f * a[col][c]
    out = {part[i]: a[i][n] / a[i][i] for i in range(n)}
    if any(not math.isfinite(v) or v < -1e-12 for v in out.values()):
        return None
    return out


def terminates(graph: Graph, part: list[str]) -> bool:
    """Whether a request entering anywhere in the component leaves it with probability one."""
    visits = solve_visits(graph, part, dict.fromkeys(part, 1.0))
    return visits is not None and all(v >= 1.0 - 1e-9 for v in visits.values())
