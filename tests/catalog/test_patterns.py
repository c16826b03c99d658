"""The pattern entries: complete, consistent with the templates, and rendered for people."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from scalesim_patterns import catalog
from scalesim_patterns.catalog import CatalogError, PatternEntry, render_pattern
from scalesim_patterns.catalog.entry import GROUPS
from scalesim_patterns.catalog.store import PATTERN_ORDER, PATTERNS_DIR

# API versions the generator may emit (shared/spec/generation.md), plus the Gateway API route
# Kong needs for weighted splits.
ALLOWED_API_VERSIONS = {
    "apps/v1",
    "v1",
    "autoscaling/v2",
    "policy/v1",
    "networking.k8s.io/v1",
    "networking.istio.io/v1",
    "security.istio.io/v1",
    "argoproj.io/v1alpha1",
    "configuration.konghq.com/v1",
    "monitoring.coreos.com/v1",
    "opentelemetry.io/v1beta1",
    "gateway.networking.k8s.io/v1",
}
BRIEF_GROUPS = {
    "decomposition": ["database-per-service", "strangler-fig"],
    "data-management": ["saga", "event-sourcing"],
    "communication": ["api-gateway", "service-mesh"],
    "reliability": ["circuit-breaker", "bulkhead"],
    "observability": ["distributed-tracing", "health-check-api"],
    "deployment": ["blue-green", "canary"],
}
# The brief's "Expected Performance Metrics", by the pattern they belong to.
BRIEF_METRICS = {
    "api-gateway": "50K+ RPS throughput, < 10ms added latency",
    "circuit-breaker": "< 1ms decision time, 99.99% availability improvement",
    "service-mesh": "< 1ms proxy overhead, automatic load balancing",
    "saga": "< 5sec end-to-end transaction time",
    "event-sourcing": "10K+ events/sec write, 100K+ events/sec read",
}


def test_twelve_patterns_in_the_briefs_order() -> None:
    assert [p.id for p in catalog.patterns()] == list(PATTERN_ORDER)
    assert len(PATTERN_ORDER) == 12


def test_groups_follow_the_brief() -> None:
    groups = catalog.groups()
    assert [g.id for g in groups] == list(GROUPS)
    assert {g.id: [p.id for p in g.patterns] for g in groups} == BRIEF_GROUPS
    assert all(g.title for g in groups)


@pytest.mark.parametrize("pattern_id", PATTERN_ORDER)
def test_entry_references_exist(pattern_id: str) -> None:
    entry = catalog.pattern(pattern_id)
    template_ids = {t.id for t in catalog.templates()}
    assert entry.template in template_ids
    assert catalog.template(entry.template).patterns[0] == pattern_id
    for example in entry.examples:
        assert example.template is None or example.template in template_ids
    assert any(x.template for x in entry.examples), "at least one example has a template"
    for rel in entry.related:
        assert rel.id in PATTERN_ORDER and rel.id != pattern_id


@pytest.mark.parametrize("pattern_id", PATTERN_ORDER)
def test_entry_generation_uses_current_api_versions(pattern_id: str) -> None:
    entry = catalog.pattern(pattern_id)
    for artifact in entry.generation:
        assert artifact.api_version in ALLOWED_API_VERSIONS, artifact
    text = (PATTERNS_DIR / f"{pattern_id}.yaml").read_text(encoding="utf-8")
    assert "v1alpha3" not in text
    assert "consecutiveErrors" not in text


def test_istio_circuit_breaking_is_described_truthfully() -> None:
    for pid in ("circuit-breaker", "service-mesh"):
        rules = [a for a in catalog.pattern(pid).generation if a.kind == "DestinationRule"]
        assert rules, pid
        assert all("outlierDetection" in a.detail or "connectionPool" in a.detail for a in rules)
        assert any("no circuitBreaker field" in a.detail for a in rules)


@pytest.mark.parametrize("pattern_id", PATTERN_ORDER)
def test_expected_metrics_are_the_briefs(pattern_id: str) -> None:
    metrics = catalog.pattern(pattern_id).expected_metrics
    if pattern_id in BRIEF_METRICS:
        assert [m.expectation for m in metrics] == [BRIEF_METRICS[pattern_id]]
        assert all(m.source == "product-brief" and m.note for m in metrics)
    else:
        assert metrics == []


@pytest.mark.parametrize("pattern_id", PATTERN_ORDER)
def test_entry_text_is_plain(pattern_id: str) -> None:
    text = (PATTERNS_DIR / f"{pattern_id}.yaml").read_text(encoding="utf-8")
    assert not re.search("[\U0001f300-\U0001faff\u2600-\u27bf]", text), "no emoji"


def test_unknown_pattern_suggests_the_closest() -> None:
    with pytest.raises(CatalogError, match="did you mean 'circuit-breaker'"):
        catalog.pattern("circuit-braker")
    with pytest.raises(KeyError):
        catalog.pattern("no-such-thing")


def test_unknown_template_suggests_the_closest() -> None:
    with pytest.raises(CatalogError, match="did you mean 'travel-booking'"):
        catalog.template_text("travel-bookings")


def test_entry_model_is_strict() -> None:
    data = yaml.safe_load(Path(PATTERNS_DIR / "saga.yaml").read_text(encoding="utf-8"))
    PatternEntry.model_validate(data)
    with pytest.raises(ValidationError, match="extra"):
        PatternEntry.model_validate({**data, "usecases": ["x"]})
    with pytest.raises(ValidationError):
        PatternEntry.model_validate({**data, "group": "reliabilty"})
    with pytest.raises(ValidationError):
        PatternEntry.model_validate({**data, "useWhen": "a string, not a list"})


def test_render_pattern_text() -> None:
    entry = catalog.pattern("circuit-breaker")
    text = render_pattern(entry, "text")
    assert text.startswith("Circuit breaker (circuit-breaker) · Reliability\n")
    for heading in ("Use when", "Avoid when", "Components", "What the generator writes"):
        assert f"\n{heading}\n" in text
    assert "< 1ms decision time" in text
    assert "Topology of the template 'circuit-breaker'" in text
    assert re.search(r"checkout\s+─call───▶ payment-provider\s+pay → charge", text)
    assert "scalesim new circuit-breaker" in text
    assert max(len(line) for line in text.splitlines()) <= 100


@pytest.mark.parametrize("pattern_id", PATTERN_ORDER)
def test_render_pattern_is_safe_to_print_through_rich(pattern_id: str) -> None:
    # rich reads `[word]` as markup; the text must print verbatim.
    text = render_pattern(catalog.pattern(pattern_id), "text")
    assert not re.search(r"\[[a-z#/@][^\]]*\]", text)


def test_render_pattern_markdown() -> None:
    entry = catalog.pattern("saga")
    md = render_pattern(entry, "markdown")
    assert md.startswith("## Saga\n")
    assert "**Use when**" in md and "(template `travel-booking`)" in md
    assert "```mermaid\nflowchart LR\n" in md


def test_render_pattern_topology_formats() -> None:
    entry = catalog.pattern("saga")
    topo = catalog.pattern_topology("saga")
    assert render_pattern(entry, "mermaid") == catalog.render_mermaid(topo)
    assert render_pattern(entry, "dot") == catalog.render_dot(topo)
    data = json.loads(render_pattern(entry, "json"))
    assert data["name"] == "order-saga" and len(data["edges"]) == len(topo.edges)
    with pytest.raises(ValueError, match="unknown format"):
        render_pattern(entry, "html")  # type: ignore[arg-type]
