"""Every shipped template is a valid, plausible architecture and agrees with the index."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from scalesim_patterns import catalog
from scalesim_patterns.catalog.store import PATTERN_ORDER, TEMPLATES_DIR
from scalesim_patterns.model import Severity, json_schema, validate_text
from scalesim_patterns.model.yamlpos import parse_yaml

from .occupancy import Estimate

TEMPLATE_IDS = [t.id for t in catalog.templates()]
SYSTEMS = {"ecommerce", "social-media", "banking", "travel-booking", "iot"}

# Warnings a template is allowed to produce on purpose, each explained in a comment in the
# template itself. None today: every template validates without a single diagnostic.
EXPECTED_WARNINGS: dict[str, set[str]] = {}


def _text(template_id: str) -> str:
    return catalog.template_text(template_id)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_index_and_files_agree() -> None:
    files = {p.stem for p in TEMPLATES_DIR.glob("*.yaml")} - {"index"}
    assert set(TEMPLATE_IDS) == files
    assert len(TEMPLATE_IDS) == len(set(TEMPLATE_IDS))
    assert SYSTEMS | set(PATTERN_ORDER) == files
    kinds = {t.id: t.kind for t in catalog.templates()}
    assert {i for i, k in kinds.items() if k == "system"} == SYSTEMS
    assert {i for i, k in kinds.items() if k == "pattern"} == set(PATTERN_ORDER)


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_template_validates_without_diagnostics(template_id: str) -> None:
    arch, diags = validate_text(_text(template_id), f"{template_id}.yaml")
    errors = [str(d) for d in diags if d.severity is Severity.ERROR]
    warnings = {d.message for d in diags if d.severity is Severity.WARNING}
    assert arch is not None and errors == []
    assert warnings == EXPECTED_WARNINGS.get(template_id, set())


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_template_matches_json_schema(
    template_id: str, validator: jsonschema.Draft202012Validator
) -> None:
    # The model's own reader keeps keys as typed (PyYAML would turn a key `on:` into True).
    data = parse_yaml(_text(template_id)).data
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_template_metadata_matches_index(template_id: str) -> None:
    info = catalog.template(template_id)
    arch = catalog.template_architecture(template_id)
    assert arch.metadata.template == template_id
    assert tuple(arch.metadata.patterns) == info.patterns
    assert info.path == TEMPLATES_DIR / f"{template_id}.yaml"
    if info.kind == "pattern":
        assert arch.metadata.patterns[0] == template_id


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_template_has_header_simulation_and_scenarios(template_id: str) -> None:
    text = _text(template_id)
    header = [line for line in text.splitlines()[:6] if line.startswith("# ")]
    assert len(header) >= 3, "a template opens with a comment saying what it is"
    assert "scalesim " in text, "the header shows how to use it"
    arch = catalog.template_architecture(template_id)
    sim = arch.spec.simulation
    assert "simulation" in arch.spec.model_fields_set
    assert {"duration", "warmup", "seed"} <= sim.model_fields_set
    assert 120 <= sim.duration <= 300
    assert sim.warmup == 30
    assert arch.spec.scenarios, "at least one scenario"
    for name, scenario in arch.spec.scenarios.items():
        assert scenario.description, f"scenario {name} says what it shows"


def test_every_pattern_is_used_by_its_minimal_template() -> None:
    used: dict[str, set[str]] = {}
    for info in catalog.templates():
        for pid in info.patterns:
            used.setdefault(pid, set()).add(info.id)
    for entry in catalog.patterns():
        assert entry.template == entry.id
        assert entry.id in used[entry.id]


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_workers_are_not_overcommitted_at_base_load(template_id: str) -> None:
    busy = Estimate(catalog.template_architecture(template_id)).busy()
    over = {name: round(share, 2) for name, share in busy.items() if share > 0.7}
    assert over == {}


def test_system_templates_cover_the_brief() -> None:
    social = catalog.template_architecture("social-media").spec
    engines = {db.owner: db.engine for db in social.databases.values()}
    assert engines["profile"] == "neo4j" and engines["post"] == "cassandra"
    assert any(db.engine == "clickhouse" for db in social.databases.values())
    assert {src.type for src in social.traffic.values()} == {"open", "closed"}

    bank = catalog.template_architecture("banking").spec
    transfer = bank.sagas["transfer"]
    assert [s.action.split(".")[1] for s in transfer.steps] == ["debit", "credit", "send", "record"]
    assert bank.event_stores["ledger"].projections
    assert bank.services["accounts"].deployment is not None
    assert bank.services["accounts"].deployment.strategy == "blue-green"
    assert bank.databases["audit-db"].engine == "elasticsearch"

    travel = catalog.template_architecture("travel-booking").spec
    steps = [s.action.split(".")[0] for s in travel.sagas["book-trip"].steps]
    assert steps == ["flight", "hotel", "car", "payment"]
    external = {n for n, s in travel.services.items() if s.external}
    assert {"airline-api", "hotel-api", "car-api", "payment-provider"} == external
    for adapter, provider in (
        ("flight", "airline-api"),
        ("hotel", "hotel-api"),
        ("car", "car-api"),
    ):
        policy = travel.services[adapter].client_policy(provider)
        assert policy.timeout and policy.retry and policy.circuit_breaker
    assert travel.traffic["travellers"].arrival.process == "diurnal"  # type: ignore[union-attr]

    iot = catalog.template_architecture("iot").spec
    assert iot.brokers["kafka"].type == "kafka"
    assert any(s.traffic for s in iot.scenarios.values())


def test_strangler_split_is_the_briefs() -> None:
    gateway = catalog.template_architecture("strangler-fig").spec.gateway
    assert gateway is not None
    split = gateway.routes[0].split
    assert split is not None
    assert [(t.endpoint.split(".")[0], t.weight) for t in split] == [
        ("monolith", 60),
        ("catalog", 25),
        ("customer", 15),
    ]


@pytest.mark.parametrize("template_id", ["canary", "blue-green"])
def test_release_templates_rehearse_a_release(template_id: str) -> None:
    arch = catalog.template_architecture(template_id)
    rollouts = [s.deployment for s in arch.spec.services.values() if s.deployment is not None]
    assert len(rollouts) == 1 and rollouts[0].new_version is not None
    assert rollouts[0].start_at < arch.spec.simulation.duration
    assert "newVersion.errorRate=" in _text(template_id), "the header shows a bad release"


@pytest.mark.parametrize(
    ("template_id", "fault_target"),
    [
        ("circuit-breaker", "payment-provider"),
        ("bulkhead", "recommender"),
        ("health-check-api", "catalog"),
    ],
)
def test_resilience_templates_have_the_fault_that_shows_the_pattern(
    template_id: str, fault_target: str
) -> None:
    scenarios = catalog.template_architecture(template_id).spec.scenarios
    targets = {f.target for s in scenarios.values() for f in s.faults}
    assert fault_target in targets


def test_index_yaml_is_plain_data() -> None:
    raw = yaml.safe_load(Path(TEMPLATES_DIR / "index.yaml").read_text(encoding="utf-8"))
    assert [t["id"] for t in raw["templates"]] == TEMPLATE_IDS
