"""Mutation tests of the rules for pieces that do not fit together (SSP070-SSP075, issue 13).

Each test takes a clean generated tree (no finding of the rule), injects one mistake of the
rule's class, and checks the rule fires at the file, line and field of the mistake, saying what
would be valid; only the mutation brings the rule up. The same checks run on any directory: the
last tests lint users' own manifests that the generator never wrote.
"""

from __future__ import annotations

import re

import pytest

from scalesim_patterns.generate import GenerateOptions, generate
from scalesim_patterns.generate.lint import Finding, Linter
from scalesim_patterns.model import load

from . import schemas
from .helpers import GOLDEN_INPUT


@pytest.fixture(scope="module")
def shop_files() -> dict[str, str]:
    return generate(load(GOLDEN_INPUT))


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter(crd_paths=[schemas.CRD_DIR])


def _found(linter: Linter, files: dict[str, str], rule: str) -> list[Finding]:
    report = linter.lint_texts({k: v for k, v in files.items() if k.endswith(".yaml")})
    return [f for f in report.findings if f.rule == rule]


def _mutate(files: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert files[path].count(old) >= 1, f"{old!r} not in {path}"
    return {**files, path: files[path].replace(old, new, 1)}


def _line_of(text: str, needle: str) -> int:
    """1-based line where `needle` starts (counted independently of the linter's positions)."""
    return text[: text.index(needle)].count("\n") + 1


_WEB_SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
"""
_WEB_POLICY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  rules:
  - to: [{operation: {paths: [%s]}}]
"""
_WEB_MONITOR = """\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: web
  namespace: app
  labels:
    %s
spec:
  selector: {}
  endpoints:
  - port: http
"""
"""A user's ServiceMonitor of `web` with one label (`key: value`) for the Prometheus selector."""


def _users_web_app(*, deployment: str, allowed: str, route: str) -> str:
    """A user's own manifests for a service `web` in namespace `app`, as one multi-document
    YAML text: its Service, `deployment`, an AuthorizationPolicy letting the `allowed` paths (a
    YAML flow list's items) through, and `route` (an Ingress or HTTPRoute).

    The tests of manifests the generator never wrote share the Service and the policy; each
    spells out only what it is about, the Deployment's labels and the route."""
    return "---\n".join([_WEB_SERVICE, deployment, _WEB_POLICY % allowed, route])


# SSP070: the gateway forwards a path the service's sidecar refuses ----------------------------


def test_route_path_that_no_policy_allows_is_flagged(
    shop_files: dict[str, str], linter: Linter
) -> None:
    path = "base/gateway/ingress.yaml"
    assert _found(linter, shop_files, "SSP070") == []
    # Kong forwarded the public path before issue 13: `/users` where the service serves `/get`.
    bad = _mutate(shop_files, path, "konghq.com/rewrite: /get", "konghq.com/rewrite: /users")
    found = _found(linter, bad, "SSP070")
    assert len(found) == 1
    f = found[0]
    assert (f.file, f.name, f.path) == (
        path,
        "route-users",
        'metadata.annotations["konghq.com/rewrite"]',
    )
    assert f.line == _line_of(bad[path], "konghq.com/rewrite: /users")
    assert "'/users'" in f.message and "/get" in f.message  # what would be valid


def test_route_path_of_a_users_httproute_is_checked(linter: Linter) -> None:
    objects = _users_web_app(
        deployment="""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1.0"}]}
""",
        allowed='"/api/*"',
        route="""\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: app}
spec:
  rules:
  - matches: [{path: {type: PathPrefix, value: /shop}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: %s}}
    backendRefs: [{name: web, port: 80}]
""",
    )
    ok = _found(linter, {"app.yaml": objects % "/api/items"}, "SSP070")
    assert ok == []
    found = _found(linter, {"app.yaml": objects % "/items"}, "SSP070")
    assert len(found) == 1 and found[0].path == "spec.rules[0].filters[0].urlRewrite.path"
    assert "/api/*" in found[0].message


# SSP071: mesh retries stacked on the application's own ----------------------------------------


def test_mesh_retries_under_application_retries_are_flagged(
    shop_files: dict[str, str], linter: Linter
) -> None:
    vs = "base/mesh/services/payment/virtualservice.yaml"
    assert _found(linter, shop_files, "SSP071") == []
    # `order` retries payment with Resilience4j: a mesh retry on its route multiplies attempts.
    retried = _mutate(shop_files, vs, "    retries:\n      attempts: 0\n", "")
    found = _found(linter, retried, "SSP071")
    assert len(found) == 1
    assert found[0].file == vs and found[0].path.startswith("spec.http[0]")
    assert "Rollout/order" in found[0].message and "attempts: 0" in found[0].message
    # Without its own route, `order` falls through to `primary`, which retries twice.
    text = shop_files[vs]
    start = text.index("  - name: from-order")
    end = text.index("  - name: primary")
    dropped = {**shop_files, vs: text[:start] + text[end:]}
    found = _found(linter, dropped, "SSP071")
    assert [f.path for f in found] == ["spec.http[0].retries"]
    assert found[0].line == _line_of(dropped[vs], "    retries:\n      attempts: 2")


# SSP072: worker saturation of a consumer that serves no HTTP ----------------------------------


def test_worker_alert_on_a_consumer_is_flagged(shop_files: dict[str, str], linter: Linter) -> None:
    path = "base/observability/prometheusrule.yaml"
    assert _found(linter, shop_files, "SSP072") == []
    bad = _mutate(
        shop_files,
        path,
        'http_server_active_requests{namespace="shop",app_kubernetes_io_name="order"}',
        'http_server_active_requests{namespace="shop",app_kubernetes_io_name="notification"}',
    )
    found = _found(linter, bad, "SSP072")
    assert len(found) == 1
    assert found[0].file == path and re.fullmatch(
        r"spec\.groups\[\d+\]\.rules\[\d+\]\.expr", found[0].path
    )
    assert "'notification'" in found[0].message and "consumer lag" in found[0].message
    # A service with callers keeps its alert: `payment` is called by `order`.
    assert (
        _found(
            linter,
            _mutate(
                shop_files,
                path,
                'app_kubernetes_io_name="order"}) / 8',
                'app_kubernetes_io_name="payment"}) / 8',
            ),
            "SSP072",
        )
        == []
    )


# SSP073: version labels ------------------------------------------------------------------------


def test_stale_or_inconsistent_version_labels_are_flagged(
    shop_files: dict[str, str], linter: Linter
) -> None:
    rollout = "base/services/order/rollout.yaml"
    assert _found(linter, shop_files, "SSP073") == []
    # A rollout changed the image; the labels stayed at the old version.
    new_image = _mutate(shop_files, rollout, "order:1.4.0", "order:1.5.0")
    found = _found(linter, new_image, "SSP073")
    assert [f.path for f in found] == ['spec.template.metadata.labels["app.kubernetes.io/version"]']
    assert "'1.5.0'" in found[0].message
    # Istio's `version` disagrees with app.kubernetes.io/version in the pod template.
    text = shop_files[rollout]
    split = text.index("  template:")
    istio = {
        **shop_files,
        rollout: text[:split] + text[split:].replace("version: 1.4.0", "version: 1.3.9", 1),
    }
    paths = [f.path for f in _found(linter, istio, "SSP073")]
    assert "spec.template.metadata.labels.version" in paths
    # An object a rollout does not change carries a version label that has gone stale.
    svc = "base/services/order/service.yaml"
    stale = _mutate(
        shop_files,
        svc,
        "    app.kubernetes.io/name: order\n",
        "    app.kubernetes.io/name: order\n    app.kubernetes.io/version: 1.3.0\n",
    )
    found = _found(linter, stale, "SSP073")
    assert len(found) == 1 and found[0].file == svc and "'1.4.0'" in found[0].message


# SSP074: YAML anchors and aliases --------------------------------------------------------------


def test_yaml_anchors_and_aliases_are_flagged(shop_files: dict[str, str], linter: Linter) -> None:
    cm = "base/services/order/configmap.yaml"
    assert _found(linter, shop_files, "SSP074") == []
    anchored = _mutate(
        shop_files, cm, "  PORT: '8080'\n", "  PORT: &id001 '8080'\n  PORT_ALT: *id001\n"
    )
    found = _found(linter, anchored, "SSP074")
    assert len(found) == 1 and found[0].path == "data.PORT_ALT"
    assert found[0].line == _line_of(anchored[cm], "PORT_ALT: *id001")
    merged = {
        "x.yaml": "base: &b {a: 1}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: y\ndata:\n  <<: *b\n"
    }
    assert [f.path for f in _found(linter, merged, "SSP074")] == ['data["<<"]']


# SSP075: monitors without the Prometheus selector label ---------------------------------------


def test_monitor_without_the_selector_label_is_flagged(
    shop_files: dict[str, str], linter: Linter
) -> None:
    sm = "base/observability/servicemonitors/user.yaml"
    assert _found(linter, shop_files, "SSP075") == []
    unlabelled = _mutate(shop_files, sm, "    release: kube-prometheus-stack\n", "")
    found = _found(linter, unlabelled, "SSP075")
    assert len(found) == 1 and (found[0].file, found[0].path) == (sm, "metadata.labels")
    assert "release=kube-prometheus-stack" in found[0].message


def test_selector_label_given_to_lint_is_required(shop_files: dict[str, str]) -> None:
    wanted = (("prometheus", "platform"),)
    strict = Linter(crd_paths=[schemas.CRD_DIR], prometheus_labels=wanted)
    # Generated for kube-prometheus-stack: none of them would be selected by this Prometheus.
    found = _found(strict, shop_files, "SSP075")
    monitors = [p for p in shop_files if "servicemonitors/" in p or "prometheusrule" in p]
    assert len(found) >= len(monitors) and all("prometheus=platform" in f.message for f in found)
    regenerated = generate(load(GOLDEN_INPUT), GenerateOptions(prometheus_labels=wanted))
    assert _found(strict, regenerated, "SSP075") == []


def test_selector_label_read_from_a_users_prometheus(linter: Linter) -> None:
    files = {
        "prom.yaml": (
            "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: k8s\n"
            "  namespace: mon\nspec:\n  serviceMonitorSelector:\n    matchLabels:\n"
            "      team: platform\n"
        ),
        "sm.yaml": _WEB_MONITOR % "team: web",
    }
    found = _found(linter, files, "SSP075")
    assert len(found) == 1 and "team=platform" in found[0].message
    assert "Prometheus/k8s" in found[0].message


# Users' manifests of any shape: the cross-object rules report, never crash ---------------------

_SHAPES: list[object] = ["x", 5, [], {}, None, ["x"], [5], [{}], {"a": "b"}]
_HOSTS = [
    ("networking.k8s.io/v1", "Ingress", ("spec", "rules")),
    ("gateway.networking.k8s.io/v1", "HTTPRoute", ("spec", "rules")),
    ("security.istio.io/v1", "AuthorizationPolicy", ("spec", "rules")),
    ("networking.istio.io/v1", "VirtualService", ("spec", "http")),
    ("monitoring.coreos.com/v1", "PrometheusRule", ("spec", "groups")),
    ("v1", "ConfigMap", ("data",)),
    ("apps/v1", "Deployment", ("spec", "template")),
    ("monitoring.coreos.com/v1", "Prometheus", ("spec", "serviceMonitorSelector")),
]


def _odd_set(api: str, kind: str, field: tuple[str, ...], shape: object, inner: object) -> str:
    import yaml

    odd: dict[str, object] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {
            "name": "a",
            "namespace": "n",
            "labels": {"app.kubernetes.io/name": "a"},
            "annotations": {"konghq.com/rewrite": "/x"},
        },
    }
    cursor: dict[str, object] = odd
    for key in field[:-1]:
        cursor = cursor.setdefault(key, {})  # type: ignore[assignment]
    cursor[field[-1]] = shape
    inner_text = yaml.safe_dump(inner, default_flow_style=True).strip()
    docs: list[object] = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {"selector": {"app": "a"}},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {
                "template": {
                    "metadata": {
                        "labels": {"app": "a", "app.kubernetes.io/name": "a", "version": "1"}
                    },
                    "spec": {
                        "containers": [{"name": "a", "image": "a:2", "envFrom": inner}],
                        "volumes": inner,
                    },
                }
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n"},
            "data": {
                "clients.yaml": "a: {retry: " + inner_text + "}",
                "application.yml": "resilience4j: " + inner_text,
                "TOPICS_CONSUMED": "t",
                "X_URL": "http://a:1",
            },
        },
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {"selector": {"matchLabels": {"app": "a"}}, "rules": [{"to": inner}]},
        },
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {"hosts": ["a"], "http": [{"match": inner, "retries": inner}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "i", "namespace": "n", "annotations": {"konghq.com/x": "1"}},
            "spec": {
                "rules": [{"http": {"paths": [{"path": "/p", "backend": {"service": inner}}]}}]
            },
        },
        odd,
    ]
    return "---\n".join(yaml.safe_dump(d) for d in docs)


@pytest.mark.parametrize("api,kind,field", _HOSTS, ids=[h[1] for h in _HOSTS])
def test_odd_shapes_do_not_crash_the_rules(api: str, kind: str, field: tuple[str, ...]) -> None:
    linter = Linter(crd_paths=[])
    for shape in _SHAPES:
        for inner in _SHAPES:
            report = linter.lint_texts({"a.yaml": _odd_set(api, kind, field, shape, inner)})
            assert report.documents == 7


def test_lint_cli_takes_the_prometheus_label(tmp_path: object) -> None:
    from pathlib import Path

    from click.testing import CliRunner

    from scalesim_patterns.cli import generate_cmds  # noqa: F401  (registers the commands)
    from scalesim_patterns.cli.main import cli

    assert isinstance(tmp_path, Path)
    sm = tmp_path / "sm.yaml"
    sm.write_text(_WEB_MONITOR % "release: old")
    runner = CliRunner()
    bad = runner.invoke(cli, ["lint", str(sm), "--prometheus-label", "release=kps"])
    assert bad.exit_code == 2 and "SSP075" in bad.output and "release=kps" in bad.output
    good = runner.invoke(cli, ["lint", str(sm), "--prometheus-label", "release=old"])
    assert "SSP075" not in good.output
    refused = runner.invoke(cli, ["lint", str(sm), "--prometheus-label", "release"])
    assert refused.exit_code == 2 and "KEY=VALUE" in refused.output
    assert "Traceback" not in refused.output


def test_users_conventions_that_are_not_mistakes_stay_clean(linter: Linter) -> None:
    """Kong prefix routes without a rewrite, Istio `version: v1` subsets, `-alpine` tags."""
    text = _users_web_app(
        deployment="""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app, labels: {app.kubernetes.io/version: "2.1.0"}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, version: v1, app.kubernetes.io/name: web, app.kubernetes.io/version: "2.1.0"}
    spec: {containers: [{name: web, image: "registry.example.org/web:2.1.0-alpine"}]}
""",
        allowed='"/api/*", "/health"',
        route="""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: app
  annotations: {konghq.com/strip-path: "false"}
spec:
  ingressClassName: kong
  rules:
  - http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /health, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
""",
    )
    report = linter.lint_texts({"app.yaml": text})
    assert [f.render() for f in report.findings if f.rule in {"SSP070", "SSP073"}] == []
    wrong = text.replace("path: /health, pathType: Exact", "path: /admin, pathType: Prefix")
    found = _found(linter, {"app.yaml": wrong}, "SSP070")
    assert len(found) == 1 and "paths under '/admin'" in found[0].message
    stale = text.replace("web:2.1.0-alpine", "web:2.2.0")
    paths = {f.path for f in _found(linter, {"app.yaml": stale}, "SSP073")}
    assert paths == {'spec.template.metadata.labels["app.kubernetes.io/version"]'}
