"""The catalog's promises, checked against what the generator writes and the simulator shows.

Every "What the generator writes" item names a kind and apiVersion: each must be in the tree
generated from the pattern's minimal template. Claims that need more than a kind are checked one
by one below (and, for traces and the brief's figures, in tests/sim/tracing and
tests/sim/reports/test_brief.py).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
import yaml

from scalesim_patterns import catalog
from scalesim_patterns.generate import generate
from scalesim_patterns.model import Architecture, loads
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.tracing.recorder import TraceOptions
from scalesim_patterns.sim.tracing.spans import CLIENT

KNOWN_MISSING: set[tuple[str, str, str]] = set()
"""Generation claims not kept yet. The test fails if one of these starts being kept (remove it
here) or if any other claim is broken."""


@functools.cache
def _tree(template: str, mesh: bool = False) -> dict[str, str]:
    if not mesh:
        return generate(catalog.template_architecture(template))
    return generate(loads(catalog.new(template, ["mesh.enabled=true"])))


def _with_mesh(detail: str) -> bool:
    """A claim the entry makes for a meshed design only ("When the mesh is on, ...")."""
    return detail.lower().startswith(("when the mesh is on", "with the mesh on"))


def _documents(tree: dict[str, str]) -> list[dict[str, Any]]:
    """The objects the tree applies: its YAML documents, and the Secrets its kustomizations'
    secretGenerators make (credentials are never written as documents)."""
    docs = []
    for path, text in tree.items():
        if path.endswith((".yaml", ".yml")) and not path.startswith("services/"):
            docs.extend(d for d in yaml.safe_load_all(text) if isinstance(d, dict))
    for d in list(docs):
        if d.get("kind") == "Kustomization" or "secretGenerator" in d:
            docs.extend(
                {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": g["name"]}}
                for g in d.get("secretGenerator", [])
            )
    return docs


def _of_kind(template: str, kind: str) -> list[dict[str, Any]]:
    return [d for d in _documents(_tree(template)) if d.get("kind") == kind]


@pytest.mark.parametrize("pattern", [p.id for p in catalog.patterns()])
def test_every_generated_kind_a_catalog_entry_names_is_written(pattern: str) -> None:
    entry = catalog.pattern(pattern)
    assert entry.template is not None
    missing = set()
    for item in entry.generation:
        tree = _tree(entry.template, _with_mesh(item.detail))
        present = {(d.get("kind"), d.get("apiVersion")) for d in _documents(tree)}
        if (item.kind, item.api_version) not in present:
            missing.add((entry.id, item.kind, item.api_version))
    assert missing == {m for m in KNOWN_MISSING if m[0] == pattern}


def test_circuit_breaker_settings_use_resilience4j_keys_in_an_application_yml() -> None:
    arch = catalog.template_architecture("circuit-breaker")
    (config,) = [
        d for d in _of_kind("circuit-breaker", "ConfigMap") if "application.yml" in d["data"]
    ]
    spring = yaml.safe_load(config["data"]["application.yml"])
    instances = spring["resilience4j"]["circuitbreaker"]["instances"]
    checkout = arch.spec.services["checkout"]
    with_breaker = {t for t, p in checkout.clients.items() if p.circuit_breaker is not None}
    assert set(instances) == with_breaker
    provider = checkout.clients["payment-provider"].circuit_breaker
    cb = instances["payment-provider"]
    assert cb["slidingWindowSize"] == provider.window_size  # type: ignore[union-attr]
    assert cb["minimumNumberOfCalls"] == provider.minimum_calls  # type: ignore[union-attr]
    assert cb["failureRateThreshold"] == provider.failure_rate_threshold  # type: ignore[union-attr]
    assert cb["waitDurationInOpenState"] == "20s"
    assert cb["slowCallDurationThreshold"] == "1s"
    # pybreaker's failMax 5 as Resilience4j: a 5-call window that opens at 100 % failures
    risk = instances["risk-api"]
    assert (risk["slidingWindowSize"], risk["minimumNumberOfCalls"]) == (5, 5)
    assert risk["failureRateThreshold"] == 100
    retry = spring["resilience4j"]["retry"]["instances"]["payment-provider"]
    assert retry == {"maxAttempts": 2, "waitDuration": "200ms"}
    assert spring["resilience4j"]["timelimiter"]["instances"]["risk-api"] == {
        "timeoutDuration": "300ms"
    }


def test_bulkhead_settings_use_resilience4j_keys() -> None:
    arch = catalog.template_architecture("bulkhead")
    written = {}
    for d in _of_kind("bulkhead", "ConfigMap"):
        if "application.yml" in d["data"]:
            written[d["metadata"]["name"]] = yaml.safe_load(d["data"]["application.yml"])
    policies = [
        (svc, target, p.bulkhead)
        for svc in arch.spec.services.values()
        for target, p in svc.clients.items()
        if p.bulkhead is not None and target != "*"
    ]
    assert policies
    modules = [tree["resilience4j"] for tree in written.values()]
    for _svc, target, bulkhead in policies:
        key = "bulkhead" if bulkhead.type == "semaphore" else "thread-pool-bulkhead"
        found = [
            m[key]["instances"][target]
            for m in modules
            if target in m.get(key, {}).get("instances", {})
        ]
        assert found, (key, target)
        if bulkhead.type == "semaphore":
            assert found[0]["maxConcurrentCalls"] == bulkhead.max_concurrent
        else:
            assert found[0]["maxThreadPoolSize"] == bulkhead.max_threads
            assert found[0]["queueCapacity"] == bulkhead.queue_capacity


def test_saga_definition_is_in_the_orchestrators_config_map() -> None:
    arch = catalog.template_architecture("saga")
    (name, saga), *_ = arch.spec.sagas.items()
    assert saga.orchestrator is not None
    configs = [
        d
        for d in _of_kind("saga", "ConfigMap")
        if d["metadata"]["name"].startswith(saga.orchestrator) and f"saga-{name}.yaml" in d["data"]
    ]
    assert len(configs) == 1
    definition = yaml.safe_load(configs[0]["data"][f"saga-{name}.yaml"])[name]
    assert [s["name"] for s in definition["steps"]] == [s.name for s in saga.steps]
    assert [s["compensation"] for s in definition["steps"]] == [s.compensation for s in saga.steps]
    assert [s["pivot"] for s in definition["steps"]] == [s.pivot for s in saga.steps]
    assert definition["compensationRetries"] == saga.compensation_retries
    assert definition["timeout"] is not None


def test_saga_alerts_on_compensations_and_on_runs_past_the_timeout() -> None:
    arch = catalog.template_architecture("saga")
    (name, saga), *_ = arch.spec.sagas.items()
    (rule,) = _of_kind("saga", "PrometheusRule")
    alerts = {
        r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"] if "saga" in r["labels"]
    }
    assert set(alerts) == {"SagaCompensationRateHigh", "SagaOlderThanTimeout"}
    assert 'outcome="compensated"' in alerts["SagaCompensationRateHigh"]["expr"]
    assert alerts["SagaOlderThanTimeout"]["expr"].strip().endswith(f"> {saga.timeout:g}")
    assert all(r["labels"]["saga"] == name for r in alerts.values())
    # the metrics the alerts read are the ones the generated orchestrator exports
    runtime = _tree("saga")[f"services/{saga.orchestrator}/app/runtime/server.py"]
    assert '"scalesim_sagas"' in runtime and '"scalesim_saga_oldest_running_seconds"' in runtime


@pytest.mark.parametrize("mode", ["STRICT", "PERMISSIVE"])
def test_mesh_mtls_mode_is_the_namespaces_peer_authentication(mode: str) -> None:
    text = catalog.new("service-mesh", [f"mesh.mtls={mode}"])
    tree = generate(loads(text))
    peers = [d for d in _documents(tree) if d.get("kind") == "PeerAuthentication"]
    assert peers and all(p["spec"]["mtls"]["mode"] == mode for p in peers)


def _inventory_db_spans(traces: Any, after: float | None) -> list[float]:
    out = []
    for trace in traces.traces:
        for s in trace.spans:
            if s.kind != CLIENT or s.attributes.get("db.namespace") != "inventory-db":
                continue
            if (s.start < 55.0) if after is None else (s.start > after):
                out.append(s.duration)
    return out


def test_under_a_fault_the_traces_show_which_span_grew() -> None:
    """distributed-tracing's inventory-db-slow adds 60 ms per query from 60 s: the inventory
    database spans grow by about that."""
    arch: Architecture = catalog.template_architecture("distributed-tracing")
    result = simulate(
        arch,
        duration=75.0,
        warmup=5.0,
        replications=1,
        jobs=1,
        scenario="inventory-db-slow",
        traces=TraceOptions(max_traces=10**6),
    )
    traces = result.traces
    assert traces is not None
    before = _inventory_db_spans(traces, None)
    during = _inventory_db_spans(traces, 61.0)
    assert len(before) > 100 and len(during) > 20
    grew = sum(during) / len(during) - sum(before) / len(before)
    assert 0.050 < grew < 0.080  # the fault's 60 ms, give or take the queueing it causes
    assert traces.spans_per_second > 0
    # the sampled span rate: ~19 spans per request, 200 requests/s, 10 % sampled
    assert 300 < traces.spans_per_second < 460
