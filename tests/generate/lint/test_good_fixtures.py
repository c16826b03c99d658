"""The hardened fixture set must lint clean: no errors, no warnings, nothing unchecked."""

from __future__ import annotations

from scalesim_patterns.generate.lint import Linter, lint_paths
from scalesim_patterns.generate.lint.loader import discover, load
from scalesim_patterns.generate.lint.sources import DiskSource

from .conftest import GOOD, shared_crds


def test_good_set_is_clean(linter: Linter) -> None:
    report = linter.lint_paths([GOOD])
    assert report.findings == [], report.render_text()
    assert report.ok
    assert report.unchecked == []
    assert report.documents == 23
    assert report.files == 20  # kustomization.yaml included


def test_module_function_matches_linter(linter: Linter) -> None:
    report = lint_paths([GOOD], crd_paths=[shared_crds()])
    assert report.findings == linter.lint_paths([GOOD]).findings == []


def test_good_set_covers_every_kind_it_claims() -> None:
    loaded = load(DiskSource(), discover([GOOD]))
    present = {(d.api_version, d.kind) for d in loaded.documents}
    assert present == {
        ("v1", "ServiceAccount"),
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("apps/v1", "StatefulSet"),
        ("argoproj.io/v1alpha1", "Rollout"),
        ("argoproj.io/v1alpha1", "AnalysisTemplate"),
        ("networking.istio.io/v1", "VirtualService"),
        ("networking.istio.io/v1", "DestinationRule"),
        ("configuration.konghq.com/v1", "KongPlugin"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("opentelemetry.io/v1beta1", "OpenTelemetryCollector"),
    }
    # every object lands in the kustomization's namespace
    assert {d.namespace for d in loaded.documents} == {"shop"}


def test_lint_is_deterministic(linter: Linter) -> None:
    bad = GOOD.parent / "bad"
    first = linter.lint_paths([bad]).findings
    second = Linter(crd_paths=[shared_crds()]).lint_paths([bad]).findings
    assert first == second
    assert first  # the bad set does produce findings
