"""Architectures for the simulator's tests, built through the same model the product loads."""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model import Architecture


def architecture(
    services: dict[str, Any],
    traffic: dict[str, Any],
    *,
    duration: str = "1000s",
    warmup: str = "0s",
    seed: int = 1,
    replications: int = 1,
    window: str = "1s",
    **spec: Any,
) -> Architecture:
    body: dict[str, Any] = {
        "services": services,
        "traffic": traffic,
        "network": {"hopLatency": "0s"},
        "simulation": {
            "duration": duration,
            "warmup": warmup,
            "seed": seed,
            "replications": replications,
            "window": window,
        },
    }
    body.update(spec)
    return Architecture.model_validate(
        {
            "apiVersion": "scalesim.dev/v1alpha1",
            "kind": "Architecture",
            "metadata": {"name": "test"},
            "spec": body,
        }
    )


def poisson(rate: str, endpoint: str = "s.e") -> dict[str, Any]:
    return {
        "load": {"arrival": {"process": "poisson", "rate": rate}, "mix": [{"endpoint": endpoint}]}
    }


def service(
    work: Any,
    *,
    workers: int = 1,
    replicas: int = 1,
    concurrency: str = "thread",
    steps: list[Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "replicas": replicas,
        "workers": workers,
        "concurrency": concurrency,
        "endpoints": {"e": {"work": work, "steps": steps or []}},
        **extra,
    }


def station(
    rate: str,
    work: Any,
    *,
    workers: int = 1,
    duration: str = "1000s",
    warmup: str = "0s",
    **extra: Any,
) -> Architecture:
    """One M/G/c station fed by Poisson arrivals straight to its endpoint `s.e`."""
    return architecture(
        {"s": service(work, workers=workers, **extra)},
        poisson(rate),
        duration=duration,
        warmup=warmup,
    )


def exp(mean: str) -> dict[str, str]:
    return {"type": "exponential", "mean": mean}
