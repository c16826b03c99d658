"""Issue 13: the generated configuration works end to end on a cluster, not only in schemas.

One test per finding (each fails on the output before the fix), and for each class of mistake
a lint mutation test: the generated, lint-clean output mutated to contain the mistake must be
flagged by its rule (and only the mutation brings the rule up).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from scalesim_patterns.cli import generate_cmds  # noqa: F401  (registers the command)
from scalesim_patterns.cli.main import cli
from scalesim_patterns.generate import (
    GenerateError,
    GenerateOptions,
    generate,
    write_secrets,
    write_tree,
)
from scalesim_patterns.generate.lint import Linter
from scalesim_patterns.model import load, loads
from scalesim_patterns.model.units import parse_duration

from . import schemas
from .helpers import TEMPLATES, documents, find, generated_shop, of_kind
from .synthetic import synthetic_architecture


@pytest.fixture(scope="module")
def shop_files() -> dict[str, str]:
    return generated_shop()


@pytest.fixture(scope="module")
def synth_files() -> dict[str, str]:
    return generate(synthetic_architecture(12))


@pytest.fixture(scope="module")
def plain_files() -> dict[str, str]:
    return generate(synthetic_architecture(13, mesh=False, auth="key-auth"))


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter(crd_paths=[schemas.CRD_DIR])


def _rule(linter: Linter, files: dict[str, str], rule: str) -> list[str]:
    report = linter.lint_texts({k: v for k, v in files.items() if k.endswith(".yaml")})
    return [f.render() for f in report.findings if f.rule == rule]


def _mutate(files: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in files[path], f"{old!r} not in {path}"
    return {**files, path: files[path].replace(old, new, 1)}


def _ingress_backends(files: dict[str, str]) -> list[tuple[dict[str, Any], str]]:
    out = []
    for ing in of_kind(files, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                out.append((ing, p["backend"]["service"]["name"]))
    return out


# Blocker 1: Kong reaches meshed services by their in-mesh host ---------------------------------


def test_kong_sends_the_in_mesh_host_to_the_service(shop_files: dict[str, str]) -> None:
    pairs = _ingress_backends(shop_files)
    assert pairs
    for ingress, backend in pairs:
        assert ingress["metadata"]["annotations"]["konghq.com/preserve-host"] == "false"
        service = find(shop_files, "Service", backend)["metadata"]["annotations"]
        assert service["ingress.kubernetes.io/service-upstream"] == "true"
        assert service["konghq.com/host-header"] == f"{backend}.shop.svc.cluster.local"
        # The VirtualService is for that host, so the Kong sidecar applies it.
        assert find(shop_files, "VirtualService", backend)["spec"]["hosts"] == [backend]


def test_canary_weights_apply_to_gateway_traffic(shop_files: dict[str, str]) -> None:
    rollout = find(shop_files, "Rollout", "order")
    istio = rollout["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]
    managed = set(istio["virtualService"]["routes"])
    assert "order" in {b for _, b in _ingress_backends(shop_files)}
    # The first route a request from Kong (no caller labels) meets is one Argo re-weights.
    for route in find(shop_files, "VirtualService", "order")["spec"]["http"]:
        matches = route.get("match", [])
        if not matches or any("sourceNamespace" in m for m in matches):
            assert route["name"] in managed
            assert {d["destination"].get("subset") for d in route["route"]} == {"stable", "canary"}
            break
    else:
        pytest.fail("no VirtualService route takes gateway traffic")


def test_lint_flags_kong_without_in_mesh_host(shop_files: dict[str, str], linter: Linter) -> None:
    assert _rule(linter, shop_files, "SSP060") == []
    ing = "base/gateway/ingress.yaml"
    svc = "base/services/user/service.yaml"
    no_host = _mutate(shop_files, ing, "    konghq.com/preserve-host: 'false'\n", "")
    no_host = _mutate(no_host, svc, "konghq.com/host-header:", "example.com/host-header:")
    assert any("route-users" in f and "Host" in f for f in _rule(linter, no_host, "SSP060"))
    by_pod_ip = _mutate(shop_files, svc, "ingress.kubernetes.io/service-upstream: 'true'", "a: b")
    assert any("service-upstream" in f for f in _rule(linter, by_pod_ip, "SSP060"))


# Blocker 2: DB-less authentication against a named issuer, and TLS -----------------------------


@pytest.mark.parametrize("template", ["banking", "iot", "social-media"])
def test_oauth2_is_validated_as_jwt_of_the_issuer(template: str) -> None:
    arch = load(TEMPLATES / f"{template}.yaml")
    issuer = "https://id.example.org/realms/shop"
    files = generate(arch, GenerateOptions(auth_issuer=issuer))
    plugins = of_kind(files, "KongPlugin")
    assert not [p for p in plugins if p["plugin"] == "oauth2"]
    if arch.spec.mesh is not None and arch.spec.mesh.enabled:
        auths = of_kind(files, "RequestAuthentication")
        assert auths and all(a["spec"]["jwtRules"][0]["issuer"] == issuer for a in auths)
        principals = [
            src["source"].get("requestPrincipals")
            for ap in of_kind(files, "AuthorizationPolicy")
            for rule in ap["spec"].get("rules", [])
            for src in rule["from"]
        ]
        assert [issuer + "/*"] in principals
    else:
        jwt = [p for p in plugins if p["plugin"] == "jwt"]
        assert jwt and jwt[0]["config"]["key_claim_name"] == "iss"
        assert issuer in files["README.md"]


def test_every_ingress_terminates_tls_with_a_cert_manager_certificate(
    shop_files: dict[str, str],
) -> None:
    cert = find(shop_files, "Certificate", "shop-tls")
    assert cert["spec"]["issuerRef"] == {
        "name": "letsencrypt",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    for ingress in of_kind(shop_files, "Ingress"):
        host = ingress["spec"]["rules"][0]["host"]
        assert ingress["spec"]["tls"] == [
            {"hosts": [host], "secretName": cert["spec"]["secretName"]}
        ]
        assert host in cert["spec"]["dnsNames"]
        assert ingress["metadata"]["annotations"]["konghq.com/protocols"] == "https"


def test_lint_flags_oauth2_plugin_and_missing_tls(
    plain_files: dict[str, str], shop_files: dict[str, str], linter: Linter
) -> None:
    plugins = "base/gateway/kongplugin.yaml"
    assert _rule(linter, plain_files, "SSP061") == []
    oauth = _mutate(plain_files, plugins, "plugin: key-auth", "plugin: oauth2")
    assert len(_rule(linter, oauth, "SSP061")) == 1
    assert _rule(linter, shop_files, "SSP062") == []
    text = shop_files["base/gateway/ingress.yaml"]
    bare = re.sub(r"  tls:\n  - hosts:\n    - [^\n]+\n    secretName: [^\n]+\n", "", text)
    assert bare != text
    found = _rule(linter, {**shop_files, "base/gateway/ingress.yaml": bare}, "SSP062")
    assert len(found) == len(of_kind(shop_files, "Ingress"))


# Blocker 3: analyses get data, every query returns a number -----------------------------------


@pytest.mark.parametrize("template", ["api-gateway", "canary", "blue-green"])
def test_metrics_are_never_switched_off(template: str) -> None:
    files = generate(load(TEMPLATES / f"{template}.yaml"))
    for cm in of_kind(files, "ConfigMap"):
        assert "OTEL_SDK_DISABLED" not in cm.get("data", {}), cm["metadata"]["name"]


def test_collector_has_a_metrics_pipeline_and_is_scraped(shop_files: dict[str, str]) -> None:
    spec = of_kind(shop_files, "OpenTelemetryCollector")[0]["spec"]
    pipelines = spec["config"]["service"]["pipelines"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert spec["config"]["exporters"]["prometheus"]["endpoint"] == "0.0.0.0:8889"
    assert spec["observability"]["metrics"] == {
        "enableMetrics": True,
        "extraLabels": {"release": "kube-prometheus-stack"},
    }
    assert "health_check" in spec["config"]["service"]["extensions"]
    assert spec["livenessProbe"] and spec["readinessProbe"]


def test_monitors_and_rules_carry_the_prometheus_selector_label() -> None:
    arch = synthetic_architecture(12)
    labels = (("prometheus", "platform"), ("team", "shop"))
    files = generate(arch, GenerateOptions(prometheus_labels=labels))
    monitors = of_kind(files, "ServiceMonitor") + of_kind(files, "PodMonitor")
    rules = of_kind(files, "PrometheusRule")
    assert monitors and rules
    for doc in monitors + rules:
        assert dict(labels).items() <= doc["metadata"]["labels"].items()


def _analysis_queries(files: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (metric["name"], metric["provider"]["prometheus"]["query"])
        for template in of_kind(files, "AnalysisTemplate")
        for metric in template["spec"]["metrics"]
        if "prometheus" in metric["provider"]
    ]


def test_every_analysis_query_is_guarded_and_leaves_probes_out(
    synth_files: dict[str, str],
) -> None:
    queries = _analysis_queries(synth_files)
    assert {name for name, _ in queries} == {"success-rate", "latency-p99", "requests"}
    for name, query in queries:
        assert re.search(r"\) or on\(\) vector\([01]\)\n$|\]\)\) or on\(\) vector\(0\)\n$", query)
        # Probes and scrapes are not user traffic; windows span four 30 s scrapes.
        excluded = re.search(r'http_route!~"([^"]+)"', query)
        assert excluded is not None, name
        assert {"/health/live", "/health/ready", "/metrics"} <= set(excluded[1].split("|"))
        assert all(w == "2m" for w in re.findall(r"\[([0-9a-z]+)\]", query)), name
    errors = [q for n, q in queries if n == "success-rate"]
    # A missing 5xx series is 0 errors; no traffic at all is 1 (and `requests` says so).
    assert all('5.."}[2m])) or on() vector(0))' in q for q in errors)


def test_no_traffic_is_inconclusive_not_an_abort(synth_files: dict[str, str]) -> None:
    for template in of_kind(synth_files, "AnalysisTemplate"):
        requests = next(m for m in template["spec"]["metrics"] if m["name"] == "requests")
        assert requests["successCondition"] == "result[0] > 0"
        assert requests["failureCondition"] == "result[0] < 0"  # never: no data is not failure
        assert requests["inconclusiveLimit"] == requests["count"] - 1


def test_lint_flags_unguarded_queries_short_windows_and_disabled_sdk(
    shop_files: dict[str, str], linter: Linter
) -> None:
    path = "base/rollouts/order/analysistemplate.yaml"
    for rule in ("SSP063", "SSP064", "SSP065"):
        assert _rule(linter, shop_files, rule) == [], rule
    unguarded = _mutate(shop_files, path, ") or on() vector(1)\n", ")\n")
    assert len(_rule(linter, unguarded, "SSP063")) == 1
    short = _mutate(shop_files, path, "[2m])) > 0)", "[1m])) > 0)")
    assert len(_rule(linter, short, "SSP064")) == 1
    cm = "base/services/user/configmap.yaml"
    off = _mutate(shop_files, cm, "  OTEL_LOGS_EXPORTER: none\n", "  OTEL_SDK_DISABLED: 'true'\n")
    assert len(_rule(linter, off, "SSP065")) == 1


# Blocker 4: paths agree gateway -> mesh -> service ---------------------------------------------


def _service_code_paths(files: dict[str, str], service: str) -> set[str]:
    spec_text = files[f"services/{service}/app/spec.py"]
    return set(re.findall(r'\\"path\\": \\"(/[^"\\]*)\\"', spec_text)) | set(
        re.findall(r'"path": "(/[^"]*)"', spec_text)
    )


def test_public_paths_reach_the_endpoints_path(shop_files: dict[str, str]) -> None:
    arch = load(Path(__file__).parent / "golden" / "ecommerce" / "input.yaml")
    assert arch.spec.gateway is not None
    ingresses = {i["metadata"]["name"]: i for i in of_kind(shop_files, "Ingress")}
    for route in arch.spec.gateway.routes:
        service, _, endpoint = route.targets()[0][0].partition(".")
        ep = arch.spec.services[service].endpoints[endpoint]
        served = ep.path or f"/{endpoint}"
        ingress = next(
            i
            for i in ingresses.values()
            if i["spec"]["rules"][0]["http"]["paths"][0]["path"] == route.path
            and i["metadata"]["annotations"].get("konghq.com/methods")
            == ",".join(route.methods or [])
        )
        annotations = ingress["metadata"]["annotations"]
        forwarded = annotations.get("konghq.com/rewrite", route.path)
        assert annotations["konghq.com/strip-path"] == "false"
        assert forwarded == served, route.path
        # The service's sidecar allows Kong exactly that path, and the service serves it.
        rules = find(shop_files, "AuthorizationPolicy", service)["spec"]["rules"]
        kong = [r for r in rules if r["from"][0]["source"].get("namespaces") == ["kong"]]
        assert {"paths": [served], "methods": [ep.method]} in [
            t["operation"] for t in kong[0]["to"]
        ]
        assert served in _service_code_paths(shop_files, service)


def test_split_match_and_templated_endpoints_use_the_forwarded_path() -> None:
    data = yaml.safe_load(yaml.safe_dump(synthetic_architecture(12).model_dump(by_alias=True)))
    files = generate(synthetic_architecture(12))
    split = find(files, "VirtualService", "svc000")["spec"]["http"][0]
    assert split["match"][0]["uri"] == {"exact": "/get"}
    # `/api/s000` -> `/items/{id}`: Kong captures the rest of the path into the template.
    templated = [
        i
        for i in of_kind(files, "Ingress")
        if "{" not in i["metadata"]["annotations"].get("konghq.com/rewrite", "")
        and i["metadata"]["annotations"].get("konghq.com/rewrite", "").endswith("$1")
    ]
    assert templated, data["metadata"]["name"]
    path = templated[0]["spec"]["rules"][0]["http"]["paths"][0]
    assert path["pathType"] == "ImplementationSpecific" and path["path"].startswith("/~")
    assert re.fullmatch(path["path"][2:], "/api/s000/42") is not None


def test_split_targets_with_different_paths_are_refused() -> None:
    text = (TEMPLATES / "strangler-fig.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "{endpoint: catalog.handle, weight: 25}", "{endpoint: monolith.admin, weight: 25}"
    )
    with pytest.raises(GenerateError, match="serve different paths"):
        generate(loads(text))


def test_lint_flags_a_mesh_match_on_the_public_path(
    synth_files: dict[str, str], linter: Linter
) -> None:
    vs = "base/mesh/services/svc000/virtualservice.yaml"
    assert _rule(linter, synth_files, "SSP067") == []
    stale = _mutate(synth_files, vs, "exact: /get", "exact: /legacy")
    assert len(_rule(linter, stale, "SSP067")) == 1


# Secrets ---------------------------------------------------------------------------------------


def test_no_secret_values_are_generated(shop_files: dict[str, str]) -> None:
    assert not of_kind(shop_files, "Secret")
    text = "\n".join(shop_files.values())
    assert "replace-me" not in text and "placeholder" not in text.lower()
    assert shop_files["base/secrets/.gitignore"].splitlines()[1:] == ["*", "!.gitignore"]


def test_write_secrets_creates_random_private_values_once(
    shop_files: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "deploy"
    write_tree(shop_files, out)
    first = write_secrets(out, shop_files)
    assert len(first.created) == 5 and first.kept == []
    values = {rel: (out / rel).read_text() for rel in first.created}
    assert all(re.fullmatch(r"[0-9a-f]{48}", v) for v in values.values())
    assert len(set(values.values())) == len(values)  # independent draws
    assert all(stat.S_IMODE((out / rel).stat().st_mode) == 0o600 for rel in values)
    write_tree(shop_files, out)
    second = write_secrets(out, shop_files)
    assert second.created == [] and sorted(second.kept) == sorted(values)
    assert {rel: (out / rel).read_text() for rel in values} == values
    assert not list(out.rglob("*.scalesim-tmp"))


def test_database_users_exist_in_their_images() -> None:
    users = {}
    for template in ("iot", "social-media", "banking"):
        files = generate(load(TEMPLATES / f"{template}.yaml"))
        base = yaml.safe_load(files["base/kustomization.yaml"])
        for gen in base.get("secretGenerator", []):
            engine = next(
                (
                    doc["spec"]["template"]["spec"]["containers"][0]["image"]
                    .split(":")[0]
                    .rpartition("/")[2]
                    for _, doc in documents(files)
                    if doc["kind"] == "StatefulSet"
                    and gen["name"] == doc["metadata"]["name"] + "-credentials"
                ),
                None,
            )
            if engine is not None:
                users[engine] = gen.get("literals", [])
    assert users["redis"] == ["username=default"]
    assert users["elasticsearch"] == ["username=elastic"]


def test_lint_refuses_placeholder_secrets(shop_files: dict[str, str], linter: Linter) -> None:
    assert _rule(linter, shop_files, "SSP066") == []
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n"
        "type: Opaque\nstringData:\n  password: replace-me-db-password\n  user: app\n"
    )
    found = _rule(linter, {**shop_files, "base/secret.yaml": secret}, "SSP066")
    assert len(found) == 1 and "stringData.password" in found[0]


# Options and namespaces ------------------------------------------------------------------------


def _generate_shop(out: Path, *flags: str) -> None:
    """Run `scalesim generate` on the e-commerce template into `out` with `flags`, and require
    success: the flag tests check what the CLI writes, so they go through the CLI, one way."""
    result = CliRunner().invoke(
        cli,
        ["generate", str(TEMPLATES / "ecommerce.yaml"), "-o", str(out), *flags],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output


def test_generate_flags_reach_the_manifests(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _generate_shop(
        out,
        "--namespace",
        "shop-prod",
        "--prometheus-label",
        "prometheus=platform",
        "--ingress-class",
        "kong-public",
        "--tls-issuer",
        "corp-ca",
        "--auth-issuer",
        "https://id.example.org/realms/shop",
    )
    ingress = yaml.safe_load((out / "base/gateway/ingress.yaml").read_text().split("---")[0])
    assert ingress["spec"]["ingressClassName"] == "kong-public"
    assert ingress["metadata"]["namespace"] == "shop-prod"
    cert = yaml.safe_load((out / "base/gateway/certificate.yaml").read_text())
    assert cert["spec"]["issuerRef"]["name"] == "corp-ca"
    monitor = yaml.safe_load((out / "base/observability/servicemonitors/user.yaml").read_text())
    assert monitor["metadata"]["labels"]["prometheus"] == "platform"
    auth = yaml.safe_load((out / "base/mesh/services/user/requestauthentication.yaml").read_text())
    assert auth["spec"]["jwtRules"][0]["issuer"] == "https://id.example.org/realms/shop"
    assert (out / "base/secrets/orders-db-credentials/password").is_file()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--namespace", "kube-system"], "system namespace"),
        (["--auth-issuer", "https://x.org/$(touch pwned)"], "--auth-issuer"),
        (["--prometheus-label", "release"], "KEY=VALUE"),
        (["--prometheus-label", "bad key!=x"], "--prometheus-label"),
        (["--tls-issuer", "Corp CA"], "--tls-issuer"),
    ],
)
def test_bad_flags_are_refused_with_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["generate", str(TEMPLATES / "ecommerce.yaml"), "-o", str(tmp_path / "o"), *args]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_lint_flags_objects_in_system_namespaces(
    shop_files: dict[str, str], linter: Linter
) -> None:
    assert _rule(linter, shop_files, "SSP068") == []
    policy = "base/network/networkpolicy.yaml"
    moved = {
        **shop_files,
        policy: shop_files[policy].replace("namespace: shop", "namespace: kube-system"),
    }
    # The base kustomization's `namespace:` would override it: lint the file on its own.
    report = linter.lint_texts({policy: moved[policy]})
    assert [f.rule for f in report.findings if f.rule == "SSP068"]


# Blue-green pre-promotion measures traffic the preview really served ---------------------------


def test_pre_promotion_sends_the_preview_traffic_it_then_measures(
    synth_files: dict[str, str],
) -> None:
    template = find(synth_files, "AnalysisTemplate", "svc007-pre-promotion")
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    job = metrics["smoke-traffic"]["provider"]["job"]["spec"]["template"]["spec"]
    command = job["containers"][0]["command"]
    span = int(command[3])
    calls = command[4:]
    assert calls and all(
        c.split(" ", 1)[1].startswith("http://svc007-preview.synth.svc.cluster.local:")
        for c in calls
    )
    assert all("{" not in c for c in calls)  # templates filled
    assert "quitquitquit" in command[2]  # the meshed Job's sidecar is stopped, so it completes
    for name in ("success-rate", "latency-p99", "requests"):
        metric = metrics[name]
        assert metric["initialDelay"] == "2m"
        interval = parse_duration(metric["interval"])
        # The traffic lasts until the last measurement of the last metric.
        assert span >= 120 + metric["count"] * interval
    assert job["serviceAccountName"] == "svc007-smoke"
    policy = find(synth_files, "AuthorizationPolicy", "svc007")["spec"]["rules"]
    smoke = [
        r
        for r in policy
        if r["from"][0]["source"].get("principals") == ["cluster.local/ns/synth/sa/svc007-smoke"]
    ]
    assert smoke
    ingress = find(synth_files, "NetworkPolicy", "svc007")["spec"]["ingress"]
    assert {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/instance": "synthetic",
                "app.kubernetes.io/name": "svc007-smoke",
            }
        }
    } in [f for rule in ingress for f in rule["from"]]
    post = find(synth_files, "AnalysisTemplate", "svc007-post-promotion")["spec"]["metrics"]
    assert "smoke-traffic" not in {m["name"] for m in post}  # the active pods have users


@pytest.mark.parametrize("template", ["blue-green", "ecommerce", "banking"])
def test_no_yaml_anchors_in_generated_files(template: str) -> None:
    files = generate(load(TEMPLATES / f"{template}.yaml"))
    anchored = [p for p, text in files.items() if re.search(r"[&*]id\d{3}\b", text)]
    assert anchored == []


# Install order --------------------------------------------------------------------------------

_FAKE_KUBECTL = """#!/bin/sh
echo "$*" >> "$KUBECTL_LOG"
case "$*" in
  "get crd $MISSING_CRD") exit 1;;
  *"jsonpath={.metadata.labels.istio-injection}"*) printf enabled;;
esac
exit 0
"""


def _run_install(tmp_path: Path, missing: str = "") -> tuple[int, list[str], str]:
    import os
    import subprocess

    files = generated_shop()
    out = tmp_path / "deploy"
    write_tree(files, out)
    write_secrets(out, files)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(_FAKE_KUBECTL)
    fake.chmod(0o755)
    log = tmp_path / "kubectl.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "KUBECTL_LOG": str(log),
        "MISSING_CRD": missing or "-",
    }
    proc = subprocess.run(
        ["sh", str(out / "install.sh"), "prod"], env=env, capture_output=True, text=True, timeout=60
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, calls, proc.stderr


def test_install_script_waits_in_the_order_the_cluster_needs(tmp_path: Path) -> None:
    code, calls, err = _run_install(tmp_path)
    assert code == 0, err

    def first(prefix: str) -> int:
        return next(i for i, c in enumerate(calls) if c.startswith(prefix))

    last_crd = max(
        i for i, c in enumerate(calls) if c.startswith("wait --for=condition=Established")
    )
    controllers = [i for i, c in enumerate(calls) if "deployment --all" in c and "-n shop" not in c]
    assert calls[first("wait --for=condition=Established")].endswith(
        "crd/certificates.cert-manager.io"
    )
    assert last_crd < min(controllers)
    assert max(controllers) < first("apply -f overlays/prod/namespace.yaml")
    assert (
        first("apply -f overlays/prod/namespace.yaml")
        < first("wait --for=jsonpath")
        < first("apply -k")
    )
    assert calls[first("apply -k")] == "apply -k overlays/prod"
    assert first("apply -k") < first("-n shop rollout status") < first("-n shop wait")
    assert (
        "-n shop wait --for=condition=Available --timeout=600s rollouts.argoproj.io --all" in calls
    )


def test_install_script_stops_before_applying_when_an_addon_is_missing(tmp_path: Path) -> None:
    code, calls, err = _run_install(tmp_path, missing="rollouts.argoproj.io")
    assert code == 1
    assert "install Argo Rollouts 1.7 first" in err
    assert not [c for c in calls if c.startswith("apply")]


# The strangler split without the mesh ---------------------------------------------------------


def test_split_without_the_mesh_is_a_weighted_httproute(plain_files: dict[str, str]) -> None:
    route = find(plain_files, "HTTPRoute", "route-legacy")
    assert route["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "kong",
            "namespace": "kong",
        }
    ]
    rule = route["spec"]["rules"][0]
    assert [(b["name"], b["weight"]) for b in rule["backendRefs"]] == [
        ("svc000", 70),
        ("svc001", 30),
    ]
    assert rule["filters"][0]["urlRewrite"]["path"] == {
        "type": "ReplacePrefixMatch",
        "replacePrefixMatch": "/get",
    }
    # No Ingress sends the split's traffic to one target any more.
    paths = [
        p["path"]
        for i in of_kind(plain_files, "Ingress")
        for p in i["spec"]["rules"][0]["http"]["paths"]
    ]
    assert "/legacy" not in paths
    assert "httproutes.gateway.networking.k8s.io" in plain_files["install.sh"]


def test_docs_name_the_images_the_generator_uses() -> None:
    from scalesim_patterns.generate.brokers import BROKER_IMAGES
    from scalesim_patterns.generate.datastores import ENGINE_IMAGES

    docs = (Path(__file__).resolve().parents[2] / "docs" / "generate.md").read_text()
    table = dict(re.findall(r"^\| ([a-z0-9]+)(?: \(KRaft\))? \| ([^ |]+) \|", docs, re.M))
    for engine, (repo, tag) in {**ENGINE_IMAGES, **BROKER_IMAGES}.items():
        assert table[engine] == f"{repo}:{tag}", engine


# Minor findings -------------------------------------------------------------------------------


def test_hpa_cpu_target_is_the_service_container_not_the_sidecar(
    shop_files: dict[str, str],
) -> None:
    hpas = of_kind(shop_files, "HorizontalPodAutoscaler")
    cpu = [m for h in hpas for m in h["spec"]["metrics"] if "cpu" in str(m)]
    assert cpu
    for metric, hpa in zip(cpu, hpas, strict=False):
        assert metric["type"] == "ContainerResource"
        assert metric["containerResource"]["container"] == hpa["spec"]["scaleTargetRef"]["name"]


def test_mesh_does_not_retry_or_time_out_what_the_application_retries(
    shop_files: dict[str, str],
) -> None:
    arch = load(Path(__file__).parent / "golden" / "ecommerce" / "input.yaml")
    order = arch.spec.services["order"].clients["payment"]
    assert order.retry is not None and order.retry.style == "resilience4j"
    route = find(shop_files, "VirtualService", "payment")["spec"]["http"][0]
    assert route["match"] == [{"sourceLabels": {"app": "order"}}]
    assert route["retries"] == {"attempts": 0} and "timeout" not in route


def test_no_worker_saturation_alert_for_a_consumer_that_serves_no_http(
    shop_files: dict[str, str],
) -> None:
    # `notification` only consumes events: no caller, no route, so no active HTTP requests.
    rules = [
        r for g in of_kind(shop_files, "PrometheusRule")[0]["spec"]["groups"] for r in g["rules"]
    ]
    saturated = {r["labels"]["service"] for r in rules if r["alert"] == "WorkersSaturated"}
    assert "notification" not in saturated
    assert {"order", "payment", "product", "user"} <= saturated


def test_a_dollar_in_a_routed_endpoint_path_is_refused() -> None:
    text = (TEMPLATES / "api-gateway.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["spec"]["services"]["user"]["endpoints"]["get"]["path"] = "/u$1"
    with pytest.raises(GenerateError, match="capture reference"):
        generate(loads(yaml.safe_dump(data, sort_keys=False)))


def test_version_labels_only_on_what_a_rollout_changes(shop_files: dict[str, str]) -> None:
    """`kubectl argo rollouts set image` changes the pod template, nothing else of a service."""
    versioned = {"Deployment", "Rollout", "StatefulSet"}
    services = {n for n in ("order", "payment", "product", "user", "notification")}
    for _, doc in documents(shop_files):
        labels = doc.get("metadata", {}).get("labels", {})
        if labels.get("app.kubernetes.io/name") in services and doc["kind"] not in versioned:
            assert "app.kubernetes.io/version" not in labels, (doc["kind"], doc["metadata"]["name"])
    pod = find(shop_files, "Rollout", "order")["spec"]["template"]["metadata"]["labels"]
    assert pod["app.kubernetes.io/version"] == pod["version"]


def test_lint_flags_a_pod_wide_cpu_target_on_meshed_pods(
    shop_files: dict[str, str], linter: Linter
) -> None:
    assert _rule(linter, shop_files, "SSP069") == []
    hpa = "base/services/product/hpa.yaml"
    text = shop_files[hpa]
    pod_wide = (
        text.replace("type: ContainerResource", "type: Resource")
        .replace("containerResource:", "resource:")
        .replace("      container: product\n", "")
    )
    assert pod_wide != text
    found = _rule(linter, {**shop_files, hpa: pod_wide}, "SSP069")
    assert len(found) == 1 and "sidecar" in found[0]


# Blocker 3, end to end: every series an analysis or alert reads has a producer -----------------

# Series produced outside the application, by the exporters docs/generate.md lists as add-ons.
_EXPORTERS = {
    "container_": "cAdvisor (kubelet)",
    "kube_": "kube-state-metrics",
    "istio_": "Istio sidecars (PodMonitor)",
    "resilience4j_": "Resilience4j's Micrometer binding (Spring Boot services)",
    "eventuous_": "the user's projection runner (Eventuous' subscription gauges; not generated)",
}


def _queried_series(files: dict[str, str]) -> set[str]:
    queries = [q for _, q in _analysis_queries(files)]
    queries += [
        r["expr"]
        for p in of_kind(files, "PrometheusRule")
        for g in p["spec"]["groups"]
        for r in g["rules"]
    ]
    return {m for q in queries for m in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{", q)}


def _exported_by_service_code(files: dict[str, str]) -> set[str]:
    """Metric names the generated services register with prometheus_client, with the suffixes
    it exposes (Counter `_total`, Histogram `_bucket`/`_count`/`_sum`)."""
    names: set[str] = set()
    for path, text in files.items():
        if not (path.startswith("services/") and path.endswith(".py")):
            continue
        for kind, name in re.findall(r"\b(Counter|Gauge|Histogram)\(\s*\"([a-z_:]+)\"", text):
            suffixes = {"Counter": ["_total"], "Gauge": [""], "Histogram": ["_bucket", "_count"]}
            names.update(name + s for s in suffixes[kind])
    return names


@pytest.mark.parametrize("which", ["shop", "synth"])
def test_every_queried_series_has_a_producer(
    which: str, shop_files: dict[str, str], synth_files: dict[str, str]
) -> None:
    files = shop_files if which == "shop" else synth_files
    exported = _exported_by_service_code(files)
    assert {"http_server_request_duration_seconds_count", "http_server_active_requests"} <= exported
    for series in sorted(_queried_series(files)):
        if series.startswith(tuple(_EXPORTERS)):
            continue
        assert series in exported, f"{series}: no generated service exports it"


def test_circuit_breaker_alert_reads_the_generated_services_gauge(
    shop_files: dict[str, str],
) -> None:
    rules = [
        r for g in of_kind(shop_files, "PrometheusRule")[0]["spec"]["groups"] for r in g["rules"]
    ]
    breaker = [r for r in rules if r["alert"] == "CircuitBreakerOpen"]
    assert breaker
    for rule in breaker:
        # The generated code's gauge: 0 closed, 1 half-open, 2 open (app/runtime/server.py).
        assert 'scalesim_client_breaker_state{namespace="shop"' in rule["expr"]
        assert f'client="{rule["labels"]["target"]}"' in rule["expr"]
        assert ">= 2" in rule["expr"]


def test_services_are_scraped_where_they_serve_metrics(shop_files: dict[str, str]) -> None:
    for monitor in of_kind(shop_files, "ServiceMonitor"):
        name = monitor["metadata"]["name"]
        endpoint = monitor["spec"]["endpoints"][0]
        cm = find(shop_files, "ConfigMap", f"{name}-config")["data"]
        assert endpoint["path"] == cm["METRICS_PATH"] == "/metrics"
        service = find(shop_files, "Service", name)
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
        assert service["metadata"]["labels"]["scalesim.dev/scrape"] == "true"
        assert cm["OTEL_METRICS_EXPORTER"] != "none"  # tracing on: the SDK pushes OTLP too
    # The generated server answers the scrape on that path.
    assert '@app.get("/metrics"' in shop_files["services/user/app/runtime/server.py"]
    envoy = find(shop_files, "PodMonitor", "shop-envoy-stats")["spec"]
    # Istio's standard metrics: the sidecar's merged endpoint (Istio, "Prometheus" integration).
    assert envoy["podMetricsEndpoints"][0]["port"] == "http-envoy-prom"
    assert envoy["podMetricsEndpoints"][0]["path"] == "/stats/prometheus"


def test_docs_say_an_empty_analysis_result_is_an_error_not_inconclusive() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "generate.md").read_text()
    assert "counts an empty query result as an **Error**" in docs
    assert not re.search(r"empty[^.]*\bis (treated as )?inconclusive", docs)


def test_registry_and_shared_namespace_flags_reach_the_manifests(tmp_path: Path) -> None:
    """Major: `generate` exposes registry and namespaces (the rest: test_generate_flags_...)."""
    out = tmp_path / "out"
    _generate_shop(
        out,
        "--registry",
        "reg.example.org/team",
        "--kong-namespace",
        "edge",
        "--monitoring-namespace",
        "obs",
        "--dev-namespace",
        "shop-test",
    )
    texts = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*.yaml")}
    deployment = find(texts, "Deployment", "user")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "reg.example.org/team/user:1.3.0"
    )
    rules = find(texts, "AuthorizationPolicy", "user")["spec"]["rules"]
    sources = [src["source"].get("namespaces") for r in rules for src in r["from"]]
    assert ["edge"] in sources and ["obs"] in sources and ["kong"] not in sources
    policy = yaml.safe_dump(find(texts, "NetworkPolicy", "user"))
    assert "kubernetes.io/metadata.name: edge" in policy
    assert "kubernetes.io/metadata.name: obs" in policy
    dev = yaml.safe_load(texts["overlays/dev/kustomization.yaml"])
    assert dev["namespace"] == "shop-test"
