"""A realistic 100-service architecture for the benchmark: bounded fan-out, no re-publish loop.

Ten layers of ten services. Traffic (1 000 req/s, Poisson) enters the ten services of layer 0;
each endpoint works (lognormal, p50 2 ms), may query its layer's database, and calls two services
of the next layer, each with probability 0.5, so a request visits about ten services whatever the
depth (the expected fan-out is one per layer). Layer 9 publishes an event to a Kafka topic whose
one consumer group (an analytics service) only writes to its database: nothing is re-published.
Half the layers are thread-per-request, half async; callers have a 2 s timeout on their calls.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model import Architecture

LAYERS = 10
WIDTH = 10
RATE = 1000.0


def wide_architecture(duration: str = "60s", seed: int = 7) -> Architecture:
    services: dict[str, Any] = {}
    databases: dict[str, Any] = {}
    for layer in range(LAYERS):
        db = f"db{layer}"
        databases[db] = {"engine": "postgresql", "owner": f"s{layer}-0", "pool": 20}
        for i in range(WIDTH):
            name = f"s{layer}-{i}"
            steps: list[dict[str, Any]] = []
            if i % 3 == 0:
                steps.append({"query": db})
            if layer + 1 < LAYERS:
                for j in (i, (i + 3) % WIDTH):
                    steps.append({"call": f"s{layer + 1}-{j}.handle", "probability": 0.5})
            else:
                steps.append({"publish": "done"})
            services[name] = {
                "replicas": 2,
                "workers": 8,
                "concurrency": "async" if layer % 2 else "thread",
                "endpoints": {
                    "handle": {
                        "work": {"type": "lognormal", "p50": "2ms", "p99": "12ms"},
                        "steps": steps,
                    }
                },
                "clients": (
                    {f"s{layer + 1}-{j}": {"timeout": "2s"} for j in range(WIDTH)}
                    if layer + 1 < LAYERS
                    else {}
                ),
            }
    services["analytics"] = {
        "replicas": 2,
        "workers": 8,
        "endpoints": {
            "record": {
                "work": {"type": "exponential", "mean": "1ms"},
                "steps": [{"query": "analytics-db"}],
            }
        },
    }
    databases["analytics-db"] = {"engine": "postgresql", "owner": "analytics", "pool": 20}
    return Architecture.model_validate(
        {
            "apiVersion": "scalesim.dev/v1alpha1",
            "kind": "Architecture",
            "metadata": {"name": "wide-100"},
            "spec": {
                "services": services,
                "databases": databases,
                "brokers": {
                    "events": {
                        "type": "kafka",
                        "topics": {
                            "done": {
                                "partitions": 6,
                                "consumers": [{"service": "analytics", "endpoint": "record"}],
                            }
                        },
                    }
                },
                "traffic": {
                    "load": {
                        "arrival": {"process": "poisson", "rate": f"{RATE:g}/s"},
                        "mix": [{"endpoint": f"s0-{i}.handle"} for i in range(WIDTH)],
                    }
                },
                "simulation": {"duration": duration, "warmup": "0s", "seed": seed},
            },
        }
    )
