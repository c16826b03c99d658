"""What recording traces costs, against the same run without traces, in one process.

Runs the e-commerce template untraced, traced at its own sampling (5 %) and traced at 100 %,
alternating the variants and repeating, and prints requests per CPU-second and each traced
variant's CPU time over the untraced one (median of the pairs). The untraced engine builds the
plain runtime classes, so its own speed is unchanged by tracing support; compare it with an older
checkout with `farm-bench --vs` for that.

    python benchmarks/tracing_cost.py            # 60 s simulated, 5 rounds
    python benchmarks/tracing_cost.py --duration 20 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from scalesim_patterns import catalog
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.tracing.recorder import TraceOptions


def _run(duration: float, traces: TraceOptions | None) -> tuple[float, float]:
    arch = catalog.template_architecture("ecommerce")
    t0 = time.process_time()
    result = simulate(arch, duration=duration, warmup=5.0, replications=1, jobs=1, traces=traces)
    cpu = time.process_time() - t0
    requests = sum(e.count.mean for e in result.summary.entries.values())
    return requests, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    variants = {
        "untraced": None,
        "traced, file sampling 5%": TraceOptions(),
        "traced, sampling 100%": TraceOptions(sampling=1.0, max_traces=10**9),
    }
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    requests = 0.0
    for _ in range(args.rounds):
        for name, options in variants.items():
            requests, seconds = _run(args.duration, options)
            cpu[name].append(seconds)
    base = cpu["untraced"]
    for name, times in cpu.items():
        ratio = statistics.median(t / b for t, b in zip(times, base, strict=True))
        print(
            f"{name:28} {requests / statistics.median(times):10.0f} requests/CPU-s   "
            f"CPU x{ratio:.3f} of untraced"
        )


if __name__ == "__main__":
    main()
