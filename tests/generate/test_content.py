"""What the generated objects say: each mapping from the architecture checked on real outputs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from scalesim_patterns.generate import GenerateError, GenerateOptions, generate
from scalesim_patterns.model import loads

from .helpers import documents, find, generated_shop, of_kind
from .synthetic import synthetic_architecture, synthetic_data

WORKLOADS = ("Deployment", "Rollout", "StatefulSet")


@pytest.fixture(scope="module")
def shop_files() -> dict[str, str]:
    return generated_shop()


@pytest.fixture(scope="module")
def synth_files() -> dict[str, str]:
    return generate(synthetic_architecture(12))


@pytest.fixture(scope="module")
def plain_files() -> dict[str, str]:
    """Synthetic design without the mesh."""
    return generate(synthetic_architecture(13, mesh=False, auth="key-auth"))


def _pods(files: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (doc["metadata"]["name"], doc["spec"]["template"])
        for _, doc in documents(files)
        if doc["kind"] in WORKLOADS
    ]


# Workloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["shop_files", "synth_files", "plain_files"])
def test_every_container_is_hardened_probed_and_sized(which: str, request: Any) -> None:
    files = request.getfixturevalue(which)
    pods = _pods(files)
    assert pods
    for name, template in pods:
        spec = template["spec"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["runAsUser"] >= 10000 and sc["readOnlyRootFilesystem"], name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(c["resources"]["limits"]), name
            assert not c["image"].endswith(":latest") and ":" in c["image"].rsplit("/", 1)[1]
            for env in c.get("env", []):
                if any(w in env["name"] for w in ("PASSWORD", "SECRET", "TOKEN", "COOKIE")):
                    assert "secretKeyRef" in env["valueFrom"], (name, env["name"])
        main = spec["containers"][0]
        assert main["readinessProbe"] != main["livenessProbe"], name
        ports = {p["name"] for p in main["ports"]}
        for key in ("readinessProbe", "livenessProbe"):
            handler = main[key].get("httpGet") or main[key].get("tcpSocket")
            if handler is not None:
                assert handler["port"] in ports, (name, key)


def test_termination_grace_period_is_written_when_not_the_default() -> None:
    data = synthetic_data(6)
    data["spec"]["services"]["svc001"]["terminationGracePeriod"] = "2.5s"
    files = generate(loads(yaml.safe_dump(data)))
    pods = dict(_pods(files))
    assert pods["svc001"]["spec"]["terminationGracePeriodSeconds"] == 3  # whole seconds, up
    assert "terminationGracePeriodSeconds" not in pods["svc000"]["spec"]  # Kubernetes' 30 s


def test_service_workload_follows_the_design(shop_files: dict[str, str]) -> None:
    user = find(shop_files, "Deployment", "user")
    assert user["spec"]["replicas"] == 2
    assert user["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "shop",
        "app.kubernetes.io/name": "user",
    }
    labels = user["spec"]["template"]["metadata"]["labels"]
    assert labels["app"] == "user" and labels["version"] == "1.3.0"
    assert labels["app.kubernetes.io/version"] == "1.3.0"
    c = user["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "registry.example.com/shop/user:1.3.0"
    assert c["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    assert c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert c["readinessProbe"]["periodSeconds"] == 5
    assert c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
    assert user["spec"]["template"]["spec"]["topologySpreadConstraints"]


def test_hpa_owns_replicas_and_pdb_leaves_room(shop_files: dict[str, str]) -> None:
    product = find(shop_files, "Deployment", "product")
    assert "replicas" not in product["spec"]
    hpa = find(shop_files, "HorizontalPodAutoscaler", "product")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "product",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert hpa["spec"]["metrics"][0]["containerResource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": 70,
    }
    assert find(shop_files, "PodDisruptionBudget", "product")["spec"]["minAvailable"] == 2
    assert find(shop_files, "PodDisruptionBudget", "user")["spec"]["minAvailable"] == 1
    names = {d["metadata"]["name"] for d in of_kind(shop_files, "PodDisruptionBudget")}
    assert "notification" not in names  # one replica: no budget


def test_requests_metric_hpa_and_behaviour(synth_files: dict[str, str]) -> None:
    hpa = find(synth_files, "HorizontalPodAutoscaler", "svc003")
    assert hpa["spec"]["metrics"] == [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "http_requests_per_second"},
                "target": {"type": "AverageValue", "averageValue": "12500m"},
            },
        }
    ]
    down = hpa["spec"]["behavior"]["scaleDown"]
    assert down["stabilizationWindowSeconds"] == 300
    assert down["policies"] == [{"type": "Percent", "value": 50, "periodSeconds": 30}]
    assert find(synth_files, "PodDisruptionBudget", "svc003")["spec"]["minAvailable"] == 1
    # HPA minimum of one: a minAvailable would block every eviction at one replica.
    assert find(synth_files, "HorizontalPodAutoscaler", "svc010")["spec"]["minReplicas"] == 1
    assert find(synth_files, "PodDisruptionBudget", "svc010")["spec"]["maxUnavailable"] == 1


def test_every_service_selects_a_pod_template(synth_files: dict[str, str]) -> None:
    templates = [t["metadata"]["labels"] for _, t in _pods(synth_files)]
    for svc in of_kind(synth_files, "Service"):
        selector = svc["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in templates), svc["metadata"]


def test_configmap_lists_dependencies_and_no_secrets(shop_files: dict[str, str]) -> None:
    data = find(shop_files, "ConfigMap", "order-config")["data"]
    assert data["PAYMENT_URL"] == "http://payment.shop.svc.cluster.local:8080"
    assert data["ORDERS_DB_HOST"] == "orders-db.shop.svc.cluster.local"
    assert data["ORDERS_DB_PORT"] == "3306"
    assert data["EVENTS_URL"] == "events.shop.svc.cluster.local:9092"
    assert (
        data["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.shop.svc.cluster.local:4317"
    )
    assert yaml.safe_load(data["clients.yaml"])["payment"]["timeout"] == "800ms"
    assert not any("PASSWORD" in key for key in data)
    env = find(shop_files, "Rollout", "order")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in env} == {
        "ORDERS_DB_USERNAME": "orders-db-credentials",
        "ORDERS_DB_PASSWORD": "orders-db-credentials",
    }


def test_external_services_are_not_deployed(synth_files: dict[str, str]) -> None:
    names = {d["metadata"]["name"] for d in of_kind(synth_files, "Deployment")}
    assert "partner" not in names
    entry = find(synth_files, "ServiceEntry", "partner-external")
    assert entry["spec"]["location"] == "MESH_EXTERNAL"
    policy = find(synth_files, "NetworkPolicy", "svc002")
    cidrs = [
        to["ipBlock"]["cidr"]
        for rule in policy["spec"]["egress"]
        for to in rule["to"]
        if "ipBlock" in to
    ]
    assert cidrs == ["0.0.0.0/0"]


# Data stores ----------------------------------------------------------------------------------


def test_database_statefulset_secret_and_policy(shop_files: dict[str, str]) -> None:
    sts = find(shop_files, "StatefulSet", "orders-db")
    assert sts["spec"]["serviceName"] == "orders-db"
    c = sts["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "docker.io/library/mysql:8.4.2"
    assert c["ports"][0]["containerPort"] == 3306
    assert all("value" not in e for e in c["env"] if "PASSWORD" in e["name"])
    claim = sts["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "10Gi"
    svc = find(shop_files, "Service", "orders-db")
    assert svc["spec"]["clusterIP"] == "None"
    # No Secret object with values: a secretGenerator fed by random, git-ignored files.
    assert not of_kind(shop_files, "Secret")
    base = yaml.safe_load(shop_files["base/kustomization.yaml"])
    gen = next(g for g in base["secretGenerator"] if g["name"] == "orders-db-credentials")
    assert gen["files"] == [
        "password=secrets/orders-db-credentials/password",
        "root-password=secrets/orders-db-credentials/root-password",
    ]
    assert gen["literals"] == ["username=app"]
    assert gen["options"]["disableNameSuffixHash"] is True
    policy = find(shop_files, "NetworkPolicy", "orders-db")["spec"]
    [rule] = policy["ingress"]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in rule["from"]] == [
        "order"
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 3306}]
    assert policy["egress"] == []


def test_shared_database_admits_exactly_owner_and_shared(synth_files: dict[str, str]) -> None:
    rule = find(synth_files, "NetworkPolicy", "db006")["spec"]["ingress"][0]
    allowed = [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in rule["from"]]
    assert allowed == ["svc005", "svc006"]


@pytest.mark.parametrize(
    "engine,image",
    [
        ("postgresql", "postgres:16.4"),
        ("mongodb", "mongo:7.0.14"),
        ("redis", "redis:7.4.0"),
        ("cassandra", "cassandra:4.1.6"),
    ],
)
def test_engine_images_are_pinned(engine: str, image: str, synth_files: dict[str, str]) -> None:
    images = [
        t["spec"]["containers"][0]["image"]
        for name, t in _pods(synth_files)
        if name.startswith("db")
    ]
    assert any(i.endswith("/" + image) for i in images)


def test_brokers(synth_files: dict[str, str]) -> None:
    kafka = find(synth_files, "StatefulSet", "events")
    env = {
        e["name"]: e.get("value") for e in kafka["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
    assert find(synth_files, "Service", "events")["spec"]["publishNotReadyAddresses"] is True
    assert find(synth_files, "PodDisruptionBudget", "events")["spec"]["minAvailable"] == 2
    rabbit = find(synth_files, "StatefulSet", "queue")
    assert rabbit["spec"]["replicas"] == 2
    nats = find(synth_files, "ConfigMap", "bus-config")["data"]["nats.conf"]
    assert "routes: [nats://bus-0.bus.synth.svc.cluster.local:6222]" in nats
    peers = find(synth_files, "NetworkPolicy", "events")["spec"]["egress"]
    assert peers[0]["ports"] == [
        {"protocol": "TCP", "port": 9092},
        {"protocol": "TCP", "port": 9093},
    ]


# Network --------------------------------------------------------------------------------------


def test_default_deny_and_call_graph_policies(shop_files: dict[str, str]) -> None:
    deny = find(shop_files, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],
        "egress": [],
    }
    assert (
        find(shop_files, "NetworkPolicy", "allow-dns")["spec"]["egress"][0]["ports"][0]["port"]
        == 53
    )
    payment = find(shop_files, "NetworkPolicy", "payment")["spec"]
    callers = [
        p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for p in payment["ingress"][0]["from"]
    ]
    assert callers == ["order"]
    notification = find(shop_files, "NetworkPolicy", "notification")["spec"]
    egress = [
        to["podSelector"]["matchLabels"].get("app.kubernetes.io/name")
        for rule in notification["egress"]
        for to in rule["to"]
        if "podSelector" in to
    ]
    assert egress[0] == "events"  # the consumer reaches its broker, and no service


# Gateway --------------------------------------------------------------------------------------


def test_kong_objects(shop_files: dict[str, str]) -> None:
    ingress = find(shop_files, "Ingress", "route-orders")
    assert ingress["spec"]["ingressClassName"] == "kong"
    annotations = ingress["metadata"]["annotations"]
    # With the mesh, JWTs are validated by Istio (RequestAuthentication), not a Kong plugin.
    assert annotations["konghq.com/plugins"] == "shop-rate-limit"
    assert annotations["konghq.com/methods"] == "POST"
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["path"] == "/orders" and path["backend"]["service"]["name"] == "order"
    limit = find(shop_files, "KongPlugin", "shop-rate-limit")
    assert "spec" not in limit
    assert limit["plugin"] == "rate-limiting"
    assert limit["config"] == {"second": 2000, "policy": "local"}
    assert not [p for p in of_kind(shop_files, "KongPlugin") if p["plugin"] in ("jwt", "oauth2")]
    assert not of_kind(shop_files, "KongConsumer")


def test_route_limit_replaces_gateway_limit_and_auth_can_be_off(
    synth_files: dict[str, str], plain_files: dict[str, str]
) -> None:
    first = find(plain_files, "Ingress", "route-api-s000-get")["metadata"]["annotations"]
    assert first["konghq.com/plugins"] == "synthetic-auth,route-api-s000-get-rate-limit"
    second = find(plain_files, "Ingress", "route-api-s001")["metadata"]["annotations"]
    assert second["konghq.com/plugins"] == "synthetic-rate-limit"
    # Kong never strips: it rewrites to the endpoint's own path (gateway -> mesh -> service).
    assert second["konghq.com/strip-path"] == "false"
    mesh_first = find(synth_files, "Ingress", "route-api-s000-get")["metadata"]["annotations"]
    assert mesh_first["konghq.com/plugins"] == "route-api-s000-get-rate-limit"


# Mesh -----------------------------------------------------------------------------------------


def test_virtual_service_routes_carry_client_policies(shop_files: dict[str, str]) -> None:
    payment = find(shop_files, "VirtualService", "payment")["spec"]["http"]
    assert [r["name"] for r in payment] == ["from-order", "primary"]
    assert payment[0]["match"] == [{"sourceLabels": {"app": "order"}}]
    # order retries payment itself (Resilience4j, 800ms timeout): the mesh neither retries
    # nor times out a second time for it; other callers get the mesh-wide retry.
    assert payment[0]["retries"] == {"attempts": 0} and "timeout" not in payment[0]
    assert payment[1]["retries"]["attempts"] == 2
    assert "timeout" not in payment[1]
    user = find(shop_files, "VirtualService", "user")["spec"]["http"]
    assert user[0]["match"][0]["uri"] == {"exact": "/get"} and user[0]["timeout"] == "300ms"


def test_canary_virtual_service_and_rollout_agree(shop_files: dict[str, str]) -> None:
    vs = find(shop_files, "VirtualService", "order")["spec"]["http"]
    routes = [r["name"] for r in vs]
    for r in vs:
        assert [(d["destination"]["subset"], d["weight"]) for d in r["route"]] == [
            ("stable", 100),
            ("canary", 0),
        ]
    rollout = find(shop_files, "Rollout", "order")
    canary = rollout["spec"]["strategy"]["canary"]
    istio = canary["trafficRouting"]["istio"]
    assert istio["virtualService"] == {"name": "order", "routes": routes}
    assert istio["destinationRule"]["canarySubsetName"] == "canary"
    subsets = find(shop_files, "DestinationRule", "order")["spec"]["subsets"]
    assert [s["name"] for s in subsets] == ["stable", "canary"]
    assert canary["steps"][:2] == [{"setWeight": 10}, {"pause": {"duration": "1m"}}]
    template = canary["steps"][2]["analysis"]["templates"][0]["templateName"]
    analysis = find(shop_files, "AnalysisTemplate", template)["spec"]
    metrics = {m["name"]: m for m in analysis["metrics"]}
    assert metrics["success-rate"]["successCondition"] == "result[0] >= 0.99"
    assert metrics["latency-p99"]["successCondition"] == "result[0] <= 0.5"
    assert (metrics["success-rate"]["interval"], metrics["success-rate"]["count"]) == ("30s", 2)
    assert "prometheus" in metrics["success-rate"]["provider"]
    assert [a["name"] for a in analysis["args"]] == ["service-name", "role"]


def test_destination_rule_circuit_breaking(
    shop_files: dict[str, str], synth_files: dict[str, str]
) -> None:
    policy = find(shop_files, "DestinationRule", "payment")["spec"]["trafficPolicy"]
    assert "circuitBreaker" not in policy
    assert policy["outlierDetection"] == {
        "consecutive5xxErrors": 5,
        "interval": "10s",
        "baseEjectionTime": "30s",
        "maxEjectionPercent": 50,
        "minHealthPercent": 0,
    }
    derived = find(synth_files, "DestinationRule", "svc001")["spec"]["trafficPolicy"]
    assert derived["outlierDetection"]["consecutive5xxErrors"] == 4  # svc000's breaker failMax
    assert derived["outlierDetection"]["baseEjectionTime"] == "20s"
    override = find(synth_files, "DestinationRule", "svc002")["spec"]["trafficPolicy"]
    assert override["connectionPool"] == {
        "tcp": {"maxConnections": 100},
        "http": {"http1MaxPendingRequests": 10},
    }


def test_bulkheads_stay_in_the_caller_not_in_the_destination_rule() -> None:
    data = synthetic_data(6)
    del data["spec"]["mesh"]["connectionPool"]
    files = generate(loads(yaml.safe_dump(data)))
    # A DestinationRule pool would bind every client's sidecar, the gateway's included.
    assert "connectionPool" not in find(files, "DestinationRule", "svc001")["spec"]["trafficPolicy"]
    assert "bulkhead" in find(files, "ConfigMap", "svc000-config")["data"]["clients.yaml"]
    threads = find(files, "DestinationRule", "svc002")["spec"]["trafficPolicy"]
    assert "connectionPool" in threads  # svc002 has its own mesh override


def test_authorization_allows_exactly_the_calls(shop_files: dict[str, str]) -> None:
    allow_nothing = find(shop_files, "AuthorizationPolicy", "allow-nothing")
    assert allow_nothing["spec"] == {}
    assert find(shop_files, "PeerAuthentication", "default")["spec"] == {"mtls": {"mode": "STRICT"}}
    rules = find(shop_files, "AuthorizationPolicy", "payment")["spec"]["rules"]
    assert rules[0]["from"] == [{"source": {"principals": ["cluster.local/ns/shop/sa/order"]}}]
    assert rules[0]["to"] == [
        {"operation": {"methods": ["POST"], "paths": ["/charge"]}},
        {"operation": {"methods": ["POST"], "paths": ["/refund"]}},
    ]
    assert rules[1]["from"] == [{"source": {"namespaces": ["monitoring"]}}]
    assert len(rules) == 2  # payment is not routed by the gateway
    routed = find(shop_files, "AuthorizationPolicy", "user")["spec"]["rules"]
    gateway = [r for r in routed if r["from"][0]["source"].get("namespaces") == ["kong"]]
    # Kong forwards the endpoint's own path (`/users` -> `/get`), with a token from the issuer.
    assert gateway[0]["from"] == [
        {
            "source": {
                "namespaces": ["kong"],
                "requestPrincipals": ["https://auth.shop.example.com/*"],
            }
        }
    ]
    assert gateway[0]["to"] == [{"operation": {"methods": ["GET"], "paths": ["/get"]}}]


def test_split_route_with_mesh(synth_files: dict[str, str]) -> None:
    split = find(synth_files, "VirtualService", "svc000")["spec"]["http"][0]
    # Kong rewrote `/legacy` to the targets' endpoint path before the sidecar matches.
    assert split["match"][0]["uri"] == {"exact": "/get"}
    assert split["match"][0]["sourceNamespace"] == "kong"
    assert [r["weight"] for r in split["route"]] == [70, 30]


def test_no_mesh_objects_without_mesh(plain_files: dict[str, str]) -> None:
    apis = {doc["apiVersion"] for _, doc in documents(plain_files)}
    assert not any("istio.io" in api for api in apis)
    canary = find(plain_files, "Rollout", "svc004")["spec"]["strategy"]["canary"]
    assert canary["canaryService"] == "svc004-canary" and "trafficRouting" not in canary
    find(plain_files, "Service", "svc004-canary")
    namespace = find(plain_files, "Namespace", "synth")["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"
    assert "split routes are Gateway API HTTPRoutes" in plain_files["README.md"]


def test_blue_green(synth_files: dict[str, str]) -> None:
    bg = find(synth_files, "Rollout", "svc007")["spec"]["strategy"]["blueGreen"]
    assert (bg["activeService"], bg["previewService"]) == ("svc007", "svc007-preview")
    assert bg["previewReplicaCount"] == 1 and bg["scaleDownDelaySeconds"] == 45
    assert bg["prePromotionAnalysis"]["args"][1] == {"name": "role", "value": "preview"}
    monitor = find(synth_files, "ServiceMonitor", "svc007")["spec"]["selector"]["matchLabels"]
    metrics = find(synth_files, "Service", "svc007-metrics")
    assert monitor.items() <= metrics["metadata"]["labels"].items()
    assert (
        not monitor.items() <= find(synth_files, "Service", "svc007")["metadata"]["labels"].items()
    )


# Observability --------------------------------------------------------------------------------


def test_collector_and_monitoring(shop_files: dict[str, str]) -> None:
    collector = find(shop_files, "OpenTelemetryCollector", "otel")["spec"]
    config = collector["config"]
    assert config["exporters"]["otlp"]["endpoint"].endswith(":4317")
    assert config["exporters"]["otlp"]["tls"] == {"insecure": True}
    assert config["processors"]["probabilistic_sampler"] == {"sampling_percentage": 5.0}
    assert config["service"]["pipelines"]["traces"]["processors"] == [
        "memory_limiter",
        "probabilistic_sampler",
        "batch",
    ]
    monitor = find(shop_files, "ServiceMonitor", "order")["spec"]
    assert (
        monitor["endpoints"][0]["port"] == "http" and monitor["endpoints"][0]["path"] == "/metrics"
    )
    rules = find(shop_files, "PrometheusRule", "shop-alerts")["spec"]["groups"]
    slo = {r["labels"]["slo"]: r for r in rules[0]["rules"]}
    assert set(slo) == {"checkout-latency", "checkout-availability", "browse-latency"}
    assert "> 0.5" in slo["checkout-latency"]["expr"]
    assert "histogram_quantile(0.99" in slo["checkout-latency"]["expr"]
    burn = [r for r in rules[0]["rules"] if r["alert"] == "SLOErrorBudgetBurn"]
    assert [r["expr"].rstrip().rsplit(" ", 1)[-1] for r in burn] == ["0.072", "0.03"]
    names = {r["alert"] for g in rules for r in g["rules"]}
    assert {
        "WorkersSaturated",
        "CPUSaturated",
        "AutoscalerAtMaximum",
        "CircuitBreakerOpen",
    } <= names


# Kustomize ------------------------------------------------------------------------------------


def test_kustomizations(shop_files: dict[str, str]) -> None:
    base = yaml.safe_load(shop_files["base/kustomization.yaml"])
    listed = set(base["resources"])
    on_disk = {p.removeprefix("base/") for p in shop_files if p.startswith("base/")}
    assert listed == on_disk - {"kustomization.yaml", "secrets/.gitignore"}
    assert base["namespace"] == "shop" and "commonLabels" not in base
    assert base["labels"][0]["includeSelectors"] is False
    dev = yaml.safe_load(shop_files["overlays/dev/kustomization.yaml"])
    assert dev["resources"] == ["../../base", "namespace.yaml"]
    assert dev["namespace"] == "shop-dev"
    user_ops = next(
        p
        for p in dev["patches"]
        if p.get("target", {}).get("name") == "user"
        and p["target"]["kind"] == "Deployment"
        and "/spec/replicas" in p["patch"]
    )
    ops = yaml.safe_load(user_ops["patch"])
    assert {"op": "add", "path": "/spec/replicas", "value": 1} in ops
    prod = yaml.safe_load(shop_files["overlays/prod/kustomization.yaml"])
    assert "patches" not in prod and prod["namespace"] == "shop"


def test_readme_lists_kinds_and_order(shop_files: dict[str, str]) -> None:
    readme = shop_files["README.md"]
    for kind in ("Rollout", "VirtualService", "KongPlugin", "ServiceMonitor", "StatefulSet"):
        assert f"| {kind} |" in readme
    assert readme.index("Install the controllers") < readme.index("kubectl apply -k overlays/prod")


# Names and options ----------------------------------------------------------------------------


def test_name_clash_between_service_and_database_is_resolved() -> None:
    data = synthetic_data(3)
    data["spec"]["databases"]["svc002"] = data["spec"]["databases"].pop("db002")
    for svc in data["spec"]["services"].values():
        for ep in svc["endpoints"].values():
            for step in ep.get("steps", []):
                if step.get("query") == "db002":
                    step["query"] = "svc002"
    files = generate(loads(yaml.safe_dump(data)))
    assert find(files, "StatefulSet", "svc002-db")
    assert find(files, "Deployment", "svc002")


def test_options_and_image_pinning() -> None:
    data = synthetic_data(2)
    data["spec"]["services"]["svc000"]["image"] = "ghcr.io/acme/api:latest"
    data["spec"]["services"]["svc001"]["image"] = "ghcr.io/acme/worker"
    arch = loads(yaml.safe_dump(data))
    files = generate(arch, GenerateOptions(kong_namespace="edge", storage_class="fast"))
    images = {
        name: t["spec"]["containers"][0]["image"]
        for name, t in _pods(files)
        if name.startswith("svc")
    }
    assert images == {"svc000": "ghcr.io/acme/api:1.0.0", "svc001": "ghcr.io/acme/worker:1.1.0"}
    assert "`latest` replaced" in files["README.md"]
    namespaces = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in find(files, "NetworkPolicy", "svc000")["spec"]["ingress"]
        for peer in rule["from"]
        if "namespaceSelector" in peer
    ]
    assert namespaces == ["edge", "monitoring"]
    claim = find(files, "StatefulSet", "db000")["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "fast"


def test_unusable_name_is_an_error() -> None:
    data = synthetic_data(2)
    data["spec"]["databases"]["9db"] = data["spec"]["databases"].pop("db001")
    for svc in data["spec"]["services"].values():
        for ep in svc["endpoints"].values():
            for step in ep.get("steps", []):
                if step.get("query") == "db001":
                    step["query"] = "9db"
    with pytest.raises(GenerateError, match="9db"):
        generate(loads(yaml.safe_dump(data)))
