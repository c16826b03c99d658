"""Break the good fixture set one thing at a time; exactly the expected findings must appear.

Each case edits the text of one file (so line numbers stay real), lints the copy, and compares
the set of (rule, file, path) of all errors and warnings with the expectation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scalesim_patterns.generate.lint import Linter

from .conftest import Edit, Problem, problems

DEP = "catalog/deployment.yaml"
C0 = "spec.template.spec.containers[0]"
SC0 = f"{C0}.securityContext"
RC0 = "spec.template.spec.containers[0]"

CASES: dict[str, tuple[tuple[Edit, ...], tuple[str, ...], set[Problem]]] = {
    "misspelt readinessProbe": (
        ((DEP, "readinessProbe:", "readinesProbe:"),),
        (),
        {("SSP103", DEP, f"{C0}.readinesProbe"), ("SSP002", DEP, f"{C0}.readinessProbe")},
    ),
    "wrong type": (
        ((DEP, "periodSeconds: 5\n", "periodSeconds: five\n"),),
        (),
        {("SSP103", DEP, f"{C0}.readinessProbe.periodSeconds")},
    ),
    "missing limits": (
        ((DEP, '            limits:\n              cpu: "1"\n              memory: 512Mi\n', ""),),
        (),
        {("SSP001", DEP, f"{C0}.resources")},
    ),
    "latest tag": (
        ((DEP, "catalog:1.4.2", "catalog:latest"),),
        (),
        {("SSP005", DEP, f"{C0}.image")},
    ),
    "untagged image": (
        ((DEP, "registry.example.com/shop/catalog:1.4.2", "registry.example.com:5000/catalog"),),
        (),
        {("SSP005", DEP, f"{C0}.image")},
    ),
    "identical probes": (
        ((DEP, "path: /live\n              port: 8080", "path: /ready\n              port: http"),),
        (),
        {("SSP003", DEP, f"{C0}.livenessProbe")},
    ),
    "probe on undeclared port": (
        ((DEP, "port: 8080\n", "port: 8081\n"),),
        (),
        {("SSP004", DEP, f"{C0}.livenessProbe.httpGet.port")},
    ),
    "runAsNonRoot false": (
        ((DEP, "runAsNonRoot: true", "runAsNonRoot: false"),),
        (),
        {("SSP006", DEP, f"{SC0}.runAsNonRoot")},
    ),
    "low uid": (
        ((DEP, "runAsUser: 10001", "runAsUser: 1000"),),
        (),
        {("SSP007", DEP, f"{SC0}.runAsUser")},
    ),
    "writable root fs": (
        ((DEP, "            readOnlyRootFilesystem: true\n", ""),),
        (),
        {("SSP008", DEP, f"{SC0}.readOnlyRootFilesystem")},
    ),
    "privilege escalation": (
        ((DEP, "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"),),
        (),
        {("SSP009", DEP, f"{SC0}.allowPrivilegeEscalation")},
    ),
    "capabilities not dropped": (
        ((DEP, "                - ALL\n", "                - NET_RAW\n"),),
        (),
        {("SSP010", DEP, f"{SC0}.capabilities.drop")},
    ),
    "seccomp unconfined": (
        ((DEP, "type: RuntimeDefault", "type: Unconfined"),),
        (),
        {("SSP011", DEP, f"{SC0}.seccompProfile")},
    ),
    "token automounted": (
        ((DEP, "automountServiceAccountToken: false", "automountServiceAccountToken: true"),),
        (),
        {("SSP012", DEP, "spec.template.spec.automountServiceAccountToken")},
    ),
    "literal secret in env": (
        (
            (
                DEP,
                "              valueFrom:\n                secretKeyRef:\n"
                "                  name: catalog-db\n                  key: password\n",
                "              value: hunter2\n",
            ),
        ),
        (),
        {("SSP013", DEP, f"{C0}.env[1].value")},
    ),
    "no spread": (
        (
            (
                DEP,
                "      topologySpreadConstraints:\n        - maxSkew: 1\n"
                "          topologyKey: topology.kubernetes.io/zone\n"
                "          whenUnsatisfiable: ScheduleAnyway\n          labelSelector:\n"
                "            matchLabels:\n              app.kubernetes.io/name: catalog\n"
                "              app.kubernetes.io/instance: catalog-prod\n",
                "",
            ),
        ),
        (),
        {("SSP014", DEP, "spec.template.spec")},
    ),
    "missing PDB": (
        (("kustomization.yaml", "  - catalog/pdb.yaml\n", ""),),
        ("catalog/pdb.yaml",),
        {("SSP020", DEP, "")},
    ),
    "PDB blocks eviction": (
        (("catalog/pdb.yaml", "minAvailable: 1", "minAvailable: 2"),),
        (),
        {("SSP021", "catalog/pdb.yaml", "spec.minAvailable")},
    ),
    "PDB percentage blocks eviction": (
        (("checkout/policies.yaml", "maxUnavailable: 25%", "maxUnavailable: 0%"),),
        (),
        {("SSP021", "checkout/policies.yaml", "spec.maxUnavailable")},
    ),
    "replicas under HPA": (
        ((DEP, "spec:\n  selector:", "spec:\n  replicas: 2\n  selector:"),),
        (),
        {("SSP022", DEP, "spec.replicas")},
    ),
    "selector mismatch": (
        (
            (
                DEP,
                "      app.kubernetes.io/instance: catalog-prod\n  template:",
                "      app.kubernetes.io/instance: catalog-canary\n  template:",
            ),
        ),
        (),
        {("SSP023", DEP, "spec.selector")},
    ),
    "service selects nothing": (
        (
            (
                "catalog/service.yaml",
                "  selector:\n    app.kubernetes.io/name: catalog\n",
                "  selector:\n    app.kubernetes.io/name: catalogue\n",
            ),
        ),
        (),
        {("SSP024", "catalog/service.yaml", "spec.selector")},
    ),
    "service target port unknown": (
        (("catalog/service.yaml", "targetPort: http", "targetPort: web"),),
        (),
        {("SSP031", "catalog/service.yaml", "spec.ports[0].targetPort")},
    ),
    "pods without network policy": (
        (("kustomization.yaml", "  - catalog/networkpolicy.yaml\n", ""),),
        ("catalog/networkpolicy.yaml",),
        {("SSP025", DEP, "spec.template.metadata.labels")},
    ),
    "statefulset service not headless": (
        (("cart-db/services.yaml", "  clusterIP: None\n", ""),),
        (),
        {("SSP026", "cart-db/statefulset.yaml", "spec.serviceName")},
    ),
    "hpa target missing": (
        (("catalog/hpa.yaml", "    name: catalog\n", "    name: catalogue\n"),),
        (),
        # without its HPA the Deployment has 1 replica, which minAvailable: 1 then blocks
        {
            ("SSP028", "catalog/hpa.yaml", "spec.scaleTargetRef.name"),
            ("SSP021", "catalog/pdb.yaml", "spec.minAvailable"),
        },
    ),
    "duplicate object": (
        (
            (
                "observability/servicemonitor.yaml",
                "apiVersion: monitoring.coreos.com/v1\n",
                "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n"
                "  name: catalog\n  labels: {release: prometheus}\nspec:\n  selector: {}\n"
                "  endpoints: [{port: http}]\n---\n"
                "apiVersion: monitoring.coreos.com/v1\n",
            ),
        ),
        (),
        {("SSP029", "observability/servicemonitor.yaml", "metadata.name")},
    ),
    "recommended labels missing": (
        (
            (
                "checkout/rollout.yaml",
                "    app.kubernetes.io/instance: checkout-prod\nspec:",
                "spec:",
            ),
        ),
        (),
        {("SSP030", "checkout/rollout.yaml", "metadata.labels")},
    ),
    "rollout pod template misspelt field": (
        (("checkout/rollout.yaml", "readinessProbe:", "readinesProbe:"),),
        (),
        {
            ("SSP105", "checkout/rollout.yaml", f"{RC0}.readinesProbe"),
            ("SSP002", "checkout/rollout.yaml", f"{RC0}.readinessProbe"),
        },
    ),
    "istio duration without unit": (
        (("mesh/virtualservice.yaml", "timeout: 3s", 'timeout: "3"'),),
        (),
        {("SSP040", "mesh/virtualservice.yaml", "spec.http[0].timeout")},
    ),
    "istio duration below bound": (
        (("mesh/destinationrule.yaml", "connectTimeout: 250ms", "connectTimeout: 100us"),),
        (),
        {
            (
                "SSP040",
                "mesh/destinationrule.yaml",
                "spec.trafficPolicy.connectionPool.tcp.connectTimeout",
            )
        },
    ),
    "istio duration as number": (
        (("mesh/virtualservice.yaml", "timeout: 3s", "timeout: 3"),),
        (),
        {("SSP105", "mesh/virtualservice.yaml", "spec.http[0].timeout")},
    ),
    "circuitBreaker in DestinationRule": (
        (
            (
                "mesh/destinationrule.yaml",
                "  trafficPolicy:\n",
                "  trafficPolicy:\n    circuitBreaker:\n      simpleCb:\n        maxConnections: 100\n",
            ),
        ),
        (),
        {("SSP041", "mesh/destinationrule.yaml", "spec.trafficPolicy.circuitBreaker")},
    ),
    "deprecated consecutiveErrors": (
        (("mesh/destinationrule.yaml", "consecutive5xxErrors: 5", "consecutiveErrors: 5"),),
        (),
        {
            (
                "SSP042",
                "mesh/destinationrule.yaml",
                "spec.trafficPolicy.outlierDetection.consecutiveErrors",
            )
        },
    ),
    "istio v1alpha3": (
        (
            (
                "mesh/virtualservice.yaml",
                "networking.istio.io/v1\n",
                "networking.istio.io/v1alpha3\n",
            ),
        ),
        (),
        {("SSP043", "mesh/virtualservice.yaml", "apiVersion")},
    ),
    "unknown top-level key on Istio CR": (
        (("mesh/virtualservice.yaml", "spec:\n  hosts:", "extra: true\nspec:\n  hosts:"),),
        (),
        {("SSP105", "mesh/virtualservice.yaml", "extra")},
    ),
    "KongPlugin with spec": (
        (
            (
                "gateway/kongplugin.yaml",
                "plugin: rate-limiting\n",
                "plugin: rate-limiting\nspec:\n  enabled: true\n",
            ),
        ),
        (),
        {("SSP105", "gateway/kongplugin.yaml", "spec")},
    ),
    "otel jaeger exporter": (
        (
            ("observability/otel-collector.yaml", "      otlp/jaeger:\n", "      jaeger:\n"),
            (
                "observability/otel-collector.yaml",
                "exporters: [otlp/jaeger]",
                "exporters: [jaeger]",
            ),
        ),
        (),
        {("SSP044", "observability/otel-collector.yaml", "spec.config.exporters.jaeger")},
    ),
    "servicemonitor interval pattern": (
        (("observability/servicemonitor.yaml", "interval: 30s", "interval: thirty"),),
        (),
        {("SSP105", "observability/servicemonitor.yaml", "spec.endpoints[0].interval")},
    ),
    "prometheusrule misspelt field": (
        (("observability/prometheusrule.yaml", "for: 10m", "fore: 10m"),),
        (),
        {("SSP105", "observability/prometheusrule.yaml", "spec.groups[0].rules[0].fore")},
    ),
    "kustomize commonLabels": (
        (
            (
                "kustomization.yaml",
                "labels:\n  - pairs:\n      app.kubernetes.io/part-of: shop\n"
                "      app.kubernetes.io/managed-by: scalesim\n    includeSelectors: false\n",
                "commonLabels:\n  app.kubernetes.io/part-of: shop\n",
            ),
        ),
        (),
        {("SSP045", "kustomization.yaml", "commonLabels")},
    ),
    "kustomize missing resource": (
        (("kustomization.yaml", "resources:\n", "resources:\n  - nowhere.yaml\n"),),
        (),
        {("SSP047", "kustomization.yaml", "resources[0]")},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_mutation_one_finding(
    case: str, linter: Linter, good_copy: Callable[..., Path]
) -> None:
    edits, delete, expected = CASES[case]
    root = good_copy(edits, delete)
    report = linter.lint_paths([root])
    assert problems(report, root) == expected, report.render_text()


def test_unknown_field_names_the_line_and_suggests(
    linter: Linter, good_copy: Callable[..., Path]
) -> None:
    root = good_copy(((DEP, "readinessProbe:", "readinesProbe:"),))
    report = linter.lint_paths([root])
    (schema,) = [f for f in report.findings if f.rule == "SSP103"]
    lines = (root / DEP).read_text().splitlines()
    assert lines[schema.line - 1].strip() == "readinesProbe:"
    assert "did you mean 'readinessProbe'" in schema.message
    assert schema.kind == "Deployment" and schema.name == "catalog" and schema.doc_index == 0


def test_type_error_message(linter: Linter, good_copy: Callable[..., Path]) -> None:
    root = good_copy(((DEP, "periodSeconds: 5\n", "periodSeconds: five\n"),))
    (item,) = linter.lint_paths([root]).findings
    assert item.message == "expected integer, got string 'five'"
    assert (root / DEP).read_text().splitlines()[item.line - 1].strip() == "periodSeconds: five"


def test_circuit_breaker_message_names_the_replacement(
    linter: Linter, good_copy: Callable[..., Path]
) -> None:
    root = good_copy(CASES["circuitBreaker in DestinationRule"][0])
    (item,) = linter.lint_paths([root]).findings
    assert "connectionPool" in item.message and "outlierDetection" in item.message
    assert item.severity == "error"


def test_duration_message_suggests_unit(linter: Linter, good_copy: Callable[..., Path]) -> None:
    root = good_copy(CASES["istio duration without unit"][0])
    (item,) = linter.lint_paths([root]).findings
    assert item.message == "'3' has no unit: durations need one, e.g. '3s' or '250ms'"


def test_missing_limits_message(linter: Linter, good_copy: Callable[..., Path]) -> None:
    root = good_copy(CASES["missing limits"][0])
    (item,) = linter.lint_paths([root]).findings
    assert item.message == "missing resources limits.cpu, limits.memory"


def test_warnings_do_not_fail_the_report(linter: Linter, good_copy: Callable[..., Path]) -> None:
    root = good_copy(CASES["istio v1alpha3"][0])
    report = linter.lint_paths([root])
    assert report.ok and [f.severity for f in report.findings] == ["warning"]
