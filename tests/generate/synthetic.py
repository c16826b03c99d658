"""Synthetic architectures: any number of services, cycling through every feature the generator
maps, so that a dozen services already exercise every branch and a hundred measure speed.
"""

from __future__ import annotations

from typing import Any

import yaml

from scalesim_patterns.model import Architecture, loads

ENGINES = [
    "postgresql",
    "mysql",
    "mongodb",
    "cassandra",
    "neo4j",
    "clickhouse",
    "elasticsearch",
    "redis",
    "dynamodb",
    "eventstoredb",
]
WORK = {"type": "lognormal", "p50": "2ms", "p99": "10ms"}


def _service(i: int, n: int) -> dict[str, Any]:
    name = f"svc{i:03d}"
    steps: list[dict[str, Any]] = [{"query": f"db{i:03d}"}]
    # Chains of ten services keep call paths short (the loader's capacity check walks them all).
    for j in (i + 1, i + 2) if i % 5 == 0 else (i + 1,):
        if j < n and j // 10 == i // 10:
            call: dict[str, Any] = {"call": f"svc{j:03d}.get"}
            if i % 4 == 0:
                call["timeout"] = "300ms"
            steps.append(call)
    if i % 6 == 1:
        steps.append({"publish": f"topic{i % 3}"})
    if i % 9 == 2 and n > 1:
        steps.append({"call": "partner.pay"})
    svc: dict[str, Any] = {
        "version": f"1.{i}.0",
        "replicas": 1 + i % 3,
        "workers": 8 + i % 5,
        "resources": {"cpu": f"{100 + 50 * (i % 4)}m", "memory": f"{128 * (1 + i % 3)}Mi"},
        "endpoints": {
            "get": {"work": WORK, "steps": steps},
            "update": {"method": "PUT", "path": "/items/{id}", "work": WORK},
        },
        "health": {
            "readiness": {"path": "/ready", "period": "5s"},
            "liveness": {"path": "/live", "period": "10s", "initialDelay": "250ms"},
        },
    }
    if i % 5 == 0:
        svc["health"]["startup"] = {"path": "/live", "period": "2s", "failureThreshold": 30}
    if i % 7 == 3:
        svc["autoscaling"] = {
            "minReplicas": 1 + i % 2,
            "maxReplicas": 8,
            "metric": "requests" if i % 2 else "cpu",
            "target": 12.5 if i % 2 else 70,
            "behavior": {
                "scaleDown": {
                    "stabilizationWindow": "5m",
                    "policies": [{"type": "Percent", "value": 50, "period": "30s"}],
                },
                "scaleUp": {"selectPolicy": "Max"},
            },
        }
    if i + 1 < n and (i + 1) // 10 == i // 10:
        target = f"svc{i + 1:03d}"
        kinds = i % 4
        policy: dict[str, Any] = {"timeout": "1s"}
        if kinds == 0:
            policy["circuitBreaker"] = {"type": "consecutive", "failMax": 4, "resetTimeout": "20s"}
            policy["bulkhead"] = {"type": "semaphore", "maxConcurrent": 20}
        elif kinds == 1:
            policy["circuitBreaker"] = {"type": "failure-rate", "windowSize": 20}
            policy["bulkhead"] = {"type": "thread-pool", "coreThreads": 4, "maxThreads": 8}
            policy["retry"] = {"style": "envoy", "attempts": 3, "perTryTimeout": "200ms"}
        elif kinds == 2:
            policy["retry"] = {"maxAttempts": 3, "wait": "100ms"}
        svc["clients"] = {target: policy}
    if i % 10 == 4:
        svc["deployment"] = {
            "strategy": "canary",
            "newVersion": {"version": f"1.{i}.1"},
            "canary": {
                "trafficRouting": "istio" if i % 20 == 4 else "replicas",
                "analysis": {"interval": "1m", "count": 5},
                "steps": [
                    {"setWeight": 20},
                    {"pause": {"duration": "2m"}},
                    {"analysis": {"interval": "30s", "count": 3, "failureLimit": 1}},
                    {"pause": {}},
                ],
            },
        }
    if i % 10 == 7:
        svc["deployment"] = {
            "strategy": "blue-green",
            "newVersion": {"version": f"1.{i}.1"},
            "blueGreen": {
                "previewReplicas": 1,
                "autoPromotion": i % 20 == 7,
                "autoPromotionDelay": "1m",
                "scaleDownDelay": "45s",
                "prePromotionAnalysis": {"successRate": 0.995, "maxLatencyP99": "300ms"},
                "postPromotionAnalysis": {"maxLatencyP99": None},
            },
        }
    if i % 8 == 5:
        svc["loadBalancer"] = "least-request"
    return {name: svc}


def synthetic_data(n: int = 100, mesh: bool = True, auth: str = "jwt") -> dict[str, Any]:
    services: dict[str, Any] = {}
    for i in range(n):
        services.update(_service(i, n))
    services["partner"] = {
        "external": True,
        "endpoints": {"pay": {"method": "POST", "work": WORK}},
    }
    databases: dict[str, Any] = {}
    for i in range(n):
        db: dict[str, Any] = {"engine": ENGINES[i % len(ENGINES)], "owner": f"svc{i:03d}"}
        if i % 11 == 6 and i > 0:
            db["sharedWith"] = [f"svc{i - 1:03d}"]
        databases[f"db{i:03d}"] = db
    consumers = [f"svc{i:03d}" for i in range(2, n, 6)] or ["svc000"]
    topics = {
        f"topic{t}": {
            "partitions": 3 + t,
            "consumers": [{"service": c, "endpoint": "get"} for c in consumers],
        }
        for t in range(3)
    }
    brokers = {
        "events": {"type": "kafka", "topics": {"topic0": topics["topic0"]}},
        "queue": {"type": "rabbitmq", "replicas": 2, "topics": {"topic1": topics["topic1"]}},
        "bus": {"type": "nats", "replicas": 1, "topics": {"topic2": topics["topic2"]}},
    }
    routes: list[dict[str, Any]] = [
        {"path": f"/api/s{i:03d}", "methods": ["GET"], "endpoint": f"svc{i:03d}.get"}
        for i in range(min(n, 10))
    ]
    routes[0]["rateLimit"] = {"minute": 600, "policy": "redis"}
    if n > 1:
        routes[1]["auth"] = False
        routes[1]["stripPath"] = True
        routes.append(
            {
                "path": "/legacy",
                "split": [
                    {"endpoint": "svc000.get", "weight": 70},
                    {"endpoint": "svc001.get", "weight": 30},
                ],
            }
        )
        routes.append(
            {"path": "/api/s000", "methods": ["POST", "PUT"], "endpoint": "svc000.update"}
        )
        routes.append(
            {
                "path": "/bucket",
                "endpoint": "svc001.get",
                "rateLimit": {"type": "token-bucket", "maxTokens": 10, "fillInterval": "1s"},
            }
        )
    data: dict[str, Any] = {
        "apiVersion": "scalesim.dev/v1alpha1",
        "kind": "Architecture",
        "metadata": {"name": "synthetic", "namespace": "synth"},
        "spec": {
            "services": services,
            "databases": databases,
            "brokers": brokers,
            "eventStores": {
                "ledger": {
                    "owner": "svc000",
                    "projections": [
                        {"name": "balances", "service": f"svc{min(1, n - 1):03d}", "handle": WORK}
                    ],
                }
            },
            "sagas": {
                "flow": {
                    "mode": "choreographed",
                    "broker": "events",
                    "steps": [
                        {"name": "a", "action": "svc000.get", "compensation": "svc000.update"}
                    ],
                },
                "orchestrated": {
                    "mode": "orchestrated",
                    "orchestrator": "svc000",
                    "stateStore": "db000",
                    "steps": [{"name": "b", "action": f"svc{n - 1:03d}.update"}],
                },
            },
            "gateway": {
                "replicas": 2,
                "host": "api.synthetic.example.com",
                "auth": {"type": auth},
                "rateLimit": {"second": 100, "hour": 100000, "policy": "local"},
                "routes": routes,
            },
            "tracing": {"sampling": 0.1, "exporter": "zipkin" if n % 2 else "otlp"},
            "traffic": {
                "users": {
                    "arrival": {"process": "poisson", "rate": "10/s"},
                    "mix": [{"endpoint": "svc000.get"}],
                }
            },
            "slos": [
                {"name": "api-latency", "target": "/api/s000", "latency": "200ms"},
                {"name": "api-availability", "target": "svc000.get", "availability": 99.9},
            ],
        },
    }
    if mesh:
        data["spec"]["mesh"] = {
            "mtls": "STRICT",
            "retry": {"attempts": 1, "perTryTimeout": "500ms"},
            "connectionPool": {"http2MaxRequests": 1000},
            "services": {
                "svc002": {
                    "timeout": "2s",
                    "retry": {"attempts": 0},
                    "outlierDetection": {"consecutive5xxErrors": 3},
                    "connectionPool": {"maxConnections": 100, "http1MaxPendingRequests": 10},
                }
            },
        }
    return data


def synthetic_architecture(n: int = 100, mesh: bool = True, auth: str = "jwt") -> Architecture:
    """A valid architecture with `n` services (plus one external), checked like a user's file."""
    return loads(yaml.safe_dump(synthetic_data(n, mesh, auth), sort_keys=False))
