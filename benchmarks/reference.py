"""The reference model of the benchmark: five async services in series, as an Architecture."""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model import Architecture

SERVICES = 5
WORKERS = 4
MEAN_WORK = 0.010
RATE = 280.0
"""70 % utilisation of each station: 280/s x 10 ms / 4 workers."""


def reference_architecture(requests: int, *, seed: int = 1) -> Architecture:
    """Tandem of M/M/4 stations: each service works, then calls the next (async, so the worker
    is free while it waits); `requests` fixes the duration at requests / rate."""
    services: dict[str, Any] = {}
    for i in range(SERVICES):
        steps = [{"call": f"s{i + 2}.work"}] if i + 1 < SERVICES else []
        services[f"s{i + 1}"] = {
            "replicas": 1,
            "workers": WORKERS,
            "concurrency": "async",
            "endpoints": {
                "work": {"work": {"type": "exponential", "mean": "10ms"}, "steps": steps}
            },
        }
    return Architecture.model_validate(
        {
            "apiVersion": "scalesim.dev/v1alpha1",
            "kind": "Architecture",
            "metadata": {"name": "bench-tandem"},
            "spec": {
                "services": services,
                "network": {"hopLatency": "0s"},
                "traffic": {
                    "load": {
                        "arrival": {"process": "poisson", "rate": f"{RATE:g}/s"},
                        "mix": [{"endpoint": "s1.work"}],
                    }
                },
                "simulation": {
                    "duration": f"{requests / RATE:.6f}s",
                    "warmup": "0s",
                    "seed": seed,
                },
            },
        }
    )
