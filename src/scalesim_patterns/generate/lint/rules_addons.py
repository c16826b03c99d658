"""Rules for add-on resources (SSP041-SSP044): Istio traffic policy, API versions, OTel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from scalesim_patterns.generate.lint.context import RuleContext
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.paths import FieldPath

# (group, version) -> the version to use instead; kind None means every kind of the group.
SUPERSEDED: dict[tuple[str, str], str] = {
    ("networking.istio.io", "v1alpha3"): "v1",
    ("networking.istio.io", "v1beta1"): "v1",
    ("security.istio.io", "v1beta1"): "v1",
    ("autoscaling", "v1"): "v2",
    ("autoscaling", "v2beta2"): "v2",
    ("opentelemetry.io", "v1alpha1"): "v1beta1",
}

CIRCUIT_BREAKER_HELP = (
    "DestinationRule has no circuitBreaker field; Istio circuit breaking is "
    "trafficPolicy.connectionPool (connection/request limits) plus "
    "trafficPolicy.outlierDetection (consecutive5xxErrors, interval, baseEjectionTime, "
    "maxEjectionPercent)"
)


def _traffic_policies(doc: Document) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Every trafficPolicy of a DestinationRule: top level, per subset, and per port."""
    roots: list[FieldPath] = [("spec", "trafficPolicy")]
    for i, _ in enumerate(doc.get("spec", "subsets") or []):
        roots.append(("spec", "subsets", i, "trafficPolicy"))
    for root in roots:
        policy = doc.get(*root)
        if not isinstance(policy, dict):
            continue
        yield root, policy
        for j, port_policy in enumerate(policy.get("portLevelSettings") or []):
            if isinstance(port_policy, dict):
                yield (*root, "portLevelSettings", j), port_policy


def _destination_rule(doc: Document) -> Iterator[Finding]:
    for path, policy in _traffic_policies(doc):
        if "circuitBreaker" in policy:
            yield finding(doc, "SSP041", (*path, "circuitBreaker"), CIRCUIT_BREAKER_HELP)
        outlier = policy.get("outlierDetection")
        if isinstance(outlier, dict) and "consecutiveErrors" in outlier:
            yield finding(
                doc,
                "SSP042",
                (*path, "outlierDetection", "consecutiveErrors"),
                "consecutiveErrors is deprecated; use consecutive5xxErrors "
                "(or consecutiveGatewayErrors for 502/503/504 only)",
            )


def _collector(doc: Document) -> Iterator[Finding]:
    config = doc.get("spec", "config")
    if isinstance(config, str):  # v1alpha1 keeps the collector config as a YAML string
        try:
            config = yaml.safe_load(config)
        except yaml.YAMLError:
            return
    exporters = config.get("exporters") if isinstance(config, dict) else None
    if not isinstance(exporters, dict):
        return
    for name in exporters:
        if str(name) == "jaeger" or str(name).startswith("jaeger/"):
            yield finding(
                doc,
                "SSP044",
                ("spec", "config", "exporters", str(name)),
                "the jaeger exporter was removed from the OpenTelemetry Collector; export with "
                "otlp to Jaeger's OTLP gRPC port 4317",
            )


def check(ctx: RuleContext) -> Iterator[Finding]:
    for doc in ctx.documents:
        newer = SUPERSEDED.get((doc.group, doc.version))
        if newer is not None:
            yield finding(
                doc,
                "SSP043",
                ("apiVersion",),
                f"{doc.api_version} is superseded; use {doc.group}/{newer}",
            )
        if doc.group == "networking.istio.io" and doc.kind == "DestinationRule":
            yield from _destination_rule(doc)
        elif doc.group == "opentelemetry.io" and doc.kind == "OpenTelemetryCollector":
            yield from _collector(doc)
