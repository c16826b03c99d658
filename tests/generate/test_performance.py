"""Generation time for the largest catalog template and a synthetic 100-service design.

Times are printed (run with `-s`), never asserted: the machine's speed is not the code's.
"""

from __future__ import annotations

import time

from scalesim_patterns.generate import generate
from scalesim_patterns.model import load

from .helpers import architecture_templates, documents
from .synthetic import synthetic_architecture


def _best_of(runs: int, fn: object) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_hundred_services() -> None:
    arch = synthetic_architecture(100)
    files = generate(arch)
    workloads = [d for _, d in documents(files) if d["kind"] in ("Deployment", "Rollout")]
    assert len(workloads) == 100
    elapsed = _best_of(3, lambda: generate(arch))
    print(f"\n100 services: {len(files)} files in {elapsed * 1000:.0f} ms")


def test_largest_template() -> None:
    archs = [load(p) for p in architecture_templates()]
    largest = max(archs, key=lambda a: len(generate(a)))
    elapsed = _best_of(3, lambda: generate(largest))
    print(f"\nlargest template {largest.name}: {elapsed * 1000:.1f} ms")
