"""The local twin describes what runs locally, checked against the template's own YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scalesim_patterns.calibrate.twin import twin_text
from scalesim_patterns.model import loads

TEMPLATES = (
    Path(__file__).resolve().parents[2] / "src" / "scalesim_patterns" / "catalog" / "templates"
)


def _twin(name: str, skipped: dict[str, str] | None = None, scale: float = 1.0) -> tuple[str, dict]:  # type: ignore[type-arg]
    text = (TEMPLATES / f"{name}.yaml").read_text("utf-8")
    arch = loads(text, name)
    out, _ = twin_text(text, arch, name, skipped or {}, scale)
    return out, yaml.safe_load(text)


def test_external_services_run_locally_with_one_replica_each() -> None:
    out, raw = _twin("circuit-breaker")
    twin = loads(out)
    externals = [n for n, s in raw["spec"]["services"].items() if s.get("external")]
    assert externals == ["payment-provider", "risk-api"]
    assert not any(s.external for s in twin.spec.services.values())
    assert {s.replicas for s in twin.spec.services.values()} == {1}
    # behaviour is untouched: the stand-in answers with the file's own latency
    assert twin.spec.services["payment-provider"].endpoints["charge"].work.model_dump() == (
        loads((TEMPLATES / "circuit-breaker.yaml").read_text("utf-8"))
        .spec.services["payment-provider"]
        .endpoints["charge"]
        .work.model_dump()
    )
    assert "# Circuit breaker: stop calling a dependency" in out  # comments kept


@pytest.mark.parametrize("template", ["ecommerce", "strangler-fig"])
def test_routes_become_their_endpoints_with_the_routes_weights_and_rates_scale(
    template: str,
) -> None:
    out, raw = _twin(template, scale=0.1)
    twin = loads(out)
    assert twin.spec.gateway is None
    spec = raw["spec"]
    routes = {r["path"]: r for r in spec["gateway"]["routes"]}
    expected: dict[str, float] = {}
    for name, source in spec["traffic"].items():
        for mix in source["mix"]:
            route = routes[mix["route"]]
            if "endpoint" in route:
                targets = [(route["endpoint"], 100.0)]
            else:
                targets = [(t["endpoint"], float(t["weight"])) for t in route["split"]]
            for ref, weight in targets:
                expected[ref] = expected.get(ref, 0.0) + mix.get("weight", 1) * weight / 100
        got = {m.endpoint: m.weight for m in twin.spec.traffic[name].mix}
        assert got == pytest.approx(expected)
        expected.clear()
        rate = float(str(source["arrival"]["rate"]).removesuffix("/s"))
        assert twin.spec.traffic[name].arrival.rate == rate * 0.1  # type: ignore[union-attr]
    assert all(not slo.target.startswith("/") for slo in twin.spec.slos)
    assert twin.spec.mesh is None or not twin.spec.mesh.enabled


def test_what_the_local_run_skips_costs_nothing_in_the_twin() -> None:
    out, _ = _twin("saga", {"shipping-db": "mongodb", "events": "kafka"})
    twin = loads(out)
    db = twin.spec.databases["shipping-db"]
    assert db.latency_of("read").mean() == 0 and db.latency_of("write").mean() == 0
    assert twin.spec.brokers["events"].default_latencies()[0].mean() == 0


def test_a_scenarios_traffic_is_written_into_the_twins_traffic() -> None:
    text = (TEMPLATES / "api-gateway.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)["spec"]
    arch = loads(text)
    for scenario, changes in raw["scenarios"].items():
        if not changes.get("traffic"):
            continue
        twin = loads(twin_text(text, arch, "api-gateway", {}, 0.5, scenario)[0])
        assert twin.spec.scenarios[scenario].traffic == {}
        for name, source in raw["traffic"].items():
            change = changes["traffic"].get(name, {})
            arrival = change.get("arrival", source["arrival"])
            factor = 0.5 * change.get("scale", 1)
            got = twin.spec.traffic[name].arrival  # type: ignore[union-attr]
            assert got.process == arrival["process"]
            for key in ("rate", "base", "peak"):
                if key in arrival:
                    given = float(str(arrival[key]).removesuffix("/s"))
                    assert getattr(got, key) == pytest.approx(given * factor)


def test_scheduled_changes_cannot_be_calibrated_and_others_are_left_out() -> None:
    from scalesim_patterns.catalog.errors import CatalogError

    text = (TEMPLATES / "strangler-fig.yaml").read_text("utf-8")
    arch = loads(text)
    with_changes = [n for n, s in arch.spec.scenarios.items() if s.changes]
    assert with_changes
    with pytest.raises(CatalogError, match="cannot be made on the local run"):
        twin_text(text, arch, "strangler-fig", {}, 1.0, with_changes[0])
    twin = loads(twin_text(text, arch, "strangler-fig", {})[0])
    assert all(not s.changes for s in twin.spec.scenarios.values())
