"""Unit tests of the small decisions rules are built on."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalesim_patterns.generate.lint import Linter
from scalesim_patterns.generate.lint.cel import parse_duration_ns
from scalesim_patterns.generate.lint.paths import format_path
from scalesim_patterns.generate.lint.rules_pods import image_problem, looks_secret
from scalesim_patterns.generate.lint.workloads import label_selector_matches, map_selector_matches


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("nginx", False),
        ("nginx:latest", False),
        ("registry:5000/team/app", False),
        ("registry:5000/team/app:1.2", True),
        ("app@sha256:abc", True),
        ("app:latest@sha256:abc", True),
        ("ghcr.io/org/app:v1", True),
    ],
)
def test_image_problem(image: str, pinned: bool) -> None:
    assert (image_problem(image) is None) is pinned


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("API_KEY", True),
        ("GITHUB_TOKEN", True),
        ("client-secret", True),
        ("APIKEY", True),
        ("KEYCLOAK_URL", False),
        ("DB_HOST", False),
        ("LOG_LEVEL", False),
    ],
)
def test_looks_secret(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("30s", 30e9),
        ("250ms", 250e6),
        ("1m30s", 90e9),
        ("1.5h", 5400e9),
        ("0", 0.0),
        ("30", None),
        ("s", None),
        ("", None),
        ("10 s", None),
        ("5d", None),
    ],
)
def test_parse_duration(text: str, nanos: float | None) -> None:
    assert parse_duration_ns(text) == nanos


def test_label_selectors() -> None:
    labels = {"app": "web", "tier": "front"}
    assert label_selector_matches({}, labels)
    assert label_selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not label_selector_matches({"matchLabels": {"app": "api"}}, labels)
    expr = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "x"]}]}
    assert label_selector_matches(expr, labels)
    assert not label_selector_matches(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, labels
    )
    assert label_selector_matches(
        {"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, labels
    )
    assert not label_selector_matches(
        {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, labels
    )
    assert map_selector_matches({"app": "web"}, labels)
    assert not map_selector_matches({}, labels)


def test_format_path() -> None:
    assert format_path(("spec", "containers", 0, "image")) == "spec.containers[0].image"
    assert format_path(("metadata", "labels", "app.kubernetes.io/name")) == (
        'metadata.labels["app.kubernetes.io/name"]'
    )
    assert format_path(()) == ""


def test_namespace_rule_and_cluster_scoped_kinds(linter: Linter, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: default\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
        "  name: r\nrules: []\n"
        "---\napiVersion: configuration.konghq.com/v1\nkind: KongClusterPlugin\nmetadata:\n"
        "  name: k\n  annotations:\n    kubernetes.io/ingress.class: kong\nplugin: cors\n"
    )
    report = linter.lint_paths([tmp_path])
    assert [(f.rule, f.doc_index, f.path) for f in report.findings] == [
        ("SSP027", 0, "metadata.namespace"),
        ("SSP027", 1, "metadata.namespace"),
    ]


def test_jobs_need_no_probes_but_everything_else(linter: Linter, tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: s\n"
        "  labels: {app.kubernetes.io/name: j, app.kubernetes.io/instance: j}\n"
        "spec:\n  template:\n    metadata:\n"
        "      labels: {app.kubernetes.io/name: j, app.kubernetes.io/instance: j}\n"
        "    spec:\n      restartPolicy: Never\n      automountServiceAccountToken: false\n"
        "      securityContext: {runAsNonRoot: true, runAsUser: 20000,"
        " seccompProfile: {type: RuntimeDefault}}\n"
        "      containers:\n        - name: c\n          image: example.com/j:1\n"
        "          resources: {requests: {cpu: 10m, memory: 8Mi}, limits: {cpu: 10m, memory: 8Mi}}\n"
        "          securityContext: {readOnlyRootFilesystem: true,"
        " allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        "  name: deny\n  namespace: s\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n"
    )
    assert linter.lint_paths([tmp_path]).findings == []


def test_otel_v1alpha1_string_config(linter: Linter, tmp_path: Path) -> None:
    (tmp_path / "otel.yaml").write_text(
        "apiVersion: opentelemetry.io/v1alpha1\nkind: OpenTelemetryCollector\nmetadata:\n"
        "  name: o\n  namespace: s\nspec:\n  config: |\n    receivers: {otlp: {}}\n"
        "    exporters:\n      jaeger/old: {endpoint: 'jaeger:14250'}\n"
    )
    report = linter.lint_paths([tmp_path])
    assert sorted((f.rule, f.severity, f.path) for f in report.findings) == [
        ("SSP043", "warning", "apiVersion"),
        ("SSP044", "error", 'spec.config.exporters["jaeger/old"]'),
        ("SSP106", "info", ""),
    ]
