"""Per-service objects: ServiceAccount, ConfigMap, Deployment or Rollout, Services, HPA, PDB.

One function per kind; `service_files` puts each kind in its own file of the service's folder.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.generate.resilience4j import application_yml
from scalesim_patterns.model.service import Health, Probe, Service
from scalesim_patterns.model.units import format_duration

from .cache_clients import cache_config, cache_secret_env
from .context import Context
from .exposure import expose_ingress
from .names import env_key, k8s_name, label_value
from .pods import (
    DEFAULT_LIVENESS,
    DEFAULT_READINESS,
    container_security,
    pod_security,
    probe,
    resources,
    seconds,
    spread,
)
from .protocols import (
    METRICS_PORT,
    app_protocol,
    port_name,
    probe_handler,
    separate_metrics,
)
from .render import Document, dump_documents
from .rollouts import rollout_parts

__all__ = [
    "BROKER_CLIENT_PORTS",
    "DEFAULT_LIVENESS",
    "DEFAULT_READINESS",
    "config_name",
    "image",
    "min_replicas",
    "pod_template",
    "service_files",
]

DEFAULT_GRACE = 30.0
"""Kubernetes' terminationGracePeriodSeconds when a pod spec gives none."""
SCRAPE_LABEL = "scalesim.dev/scrape"
BROKER_CLIENT_PORTS = {"kafka": 9092, "rabbitmq": 5672, "nats": 4222}
STORE_PORT = 2113


def config_name(name: str) -> str:
    return k8s_name(name, "config")


def min_replicas(svc: Service) -> int:
    return svc.autoscaling.min_replicas if svc.autoscaling else svc.replicas


def image(ctx: Context, name: str, svc: Service) -> str:
    """`<registry>/<name>:<version>`, or the given image with its tag pinned (never `latest`)."""
    tag = label_value(svc.version)
    if svc.image is None:
        return f"{ctx.registry}/{name}:{tag}"
    if "@" in svc.image:
        return svc.image
    repo, sep, current = svc.image.rpartition(":")
    if not sep or "/" in current:
        return f"{svc.image}:{tag}"
    if current == "latest":
        ctx.note(f"Service `{name}`: image tag `latest` replaced by the version `{tag}`.")
        return f"{repo}:{tag}"
    return svc.image


def _http_probe(
    p: Probe, default_path: str, liveness_like: bool, svc: Service | None = None
) -> dict[str, Any]:
    if svc is not None and svc.protocol != "http":
        handler = probe_handler(svc, p.path or default_path)
        return probe(p, handler, liveness_like)
    handler = {"httpGet": {"path": p.path or default_path, "port": "http"}}
    return probe(p, handler, liveness_like)


def _env(ctx: Context, name: str) -> list[dict[str, Any]]:
    """Credentials as secretKeyRefs: the only values that must never sit in the ConfigMap."""
    out: list[dict[str, Any]] = []
    for db in sorted(ctx.graph.db_clients):
        if name in ctx.graph.db_clients[db] and db in ctx.arch.spec.databases:
            secret = k8s_name(ctx.db_names[db], "credentials")
            for key in ("username", "password"):
                out.append(_secret_env(f"{env_key(db)}_{key.upper()}", secret, key))
    for broker in sorted(ctx.graph.broker_clients):
        spec = ctx.arch.spec.brokers.get(broker)
        if (
            spec is not None
            and spec.type == "rabbitmq"
            and name in ctx.graph.broker_clients[broker]
        ):
            secret = k8s_name(ctx.broker_names[broker], "credentials")
            for key in ("username", "password"):
                out.append(_secret_env(f"{env_key(broker)}_{key.upper()}", secret, key))
    out.extend(cache_secret_env(ctx, name))
    return out


def _secret_env(var: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def pod_template(ctx: Context, name: str, svc: Service) -> dict[str, Any]:
    health = svc.health or Health()
    container: dict[str, Any] = {
        "name": name,
        "image": image(ctx, name, svc),
        "imagePullPolicy": "IfNotPresent",
        "ports": _container_ports(svc),
        "envFrom": [{"configMapRef": {"name": config_name(name)}}],
    }
    env = _env(ctx, name)
    if env:
        container["env"] = env
    container["resources"] = resources(svc.resources)
    liveness = health.liveness or Probe()
    if health.startup is not None:
        container["startupProbe"] = _http_probe(
            health.startup, liveness.path or DEFAULT_LIVENESS, True, svc
        )
    readiness = health.readiness or Probe()
    container["readinessProbe"] = _http_probe(readiness, DEFAULT_READINESS, False, svc)
    if svc.protocol in ("grpc", "thrift"):
        # Readiness asks the server (gRPC health service; a Thrift server's HTTP side port);
        # liveness only whether the process still accepts connections, so a failing
        # dependency takes pods out of rotation instead of restarting them.
        container["livenessProbe"] = probe(liveness, {"tcpSocket": {"port": port_name(svc)}}, True)
    elif (readiness.path or DEFAULT_READINESS) == (liveness.path or DEFAULT_LIVENESS):
        # The same check for both would restart pods whenever a dependency fails; keep the
        # designed check for readiness and make liveness "the process still accepts connections".
        ctx.note(
            f"Service `{name}`: readiness and liveness use the same path; liveness became a TCP "
            "check on the HTTP port so a failing dependency takes pods out of rotation instead "
            "of restarting them."
        )
        container["livenessProbe"] = probe(liveness, {"tcpSocket": {"port": port_name(svc)}}, True)
    else:
        container["livenessProbe"] = _http_probe(liveness, DEFAULT_LIVENESS, True, svc)
    container["securityContext"] = container_security()
    container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    labels = {**svc.labels, **ctx.labels(name, "service", svc.version, istio=ctx.mesh)}
    metadata: dict[str, Any] = {"labels": dict(sorted(labels.items()))}
    if ctx.mesh:
        metadata["annotations"] = {
            "kubectl.kubernetes.io/default-container": name,
            "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}',
        }
    spec: dict[str, Any] = {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,
        "securityContext": pod_security(),
        "topologySpreadConstraints": spread(ctx.selector(name)),
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    if svc.termination_grace_period != DEFAULT_GRACE:
        # Whole seconds in the API; the simulator drains deleted pods for the same time.
        spec["terminationGracePeriodSeconds"] = seconds(svc.termination_grace_period)
    return {"metadata": metadata, "spec": spec}


def _workload(ctx: Context, name: str, svc: Service, strategy: dict[str, Any] | None) -> Document:
    labels = {**svc.labels, **ctx.labels(name, "service", svc.version, istio=ctx.mesh)}
    spec: dict[str, Any] = {}
    if svc.autoscaling is None:
        spec["replicas"] = svc.replicas
    spec["revisionHistoryLimit"] = 5
    spec["selector"] = {"matchLabels": ctx.selector(name)}
    if strategy is None:
        spec["strategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
        }
    else:
        spec["strategy"] = strategy
    spec["template"] = pod_template(ctx, name, svc)
    api, kind = (
        ("apps/v1", "Deployment") if strategy is None else ("argoproj.io/v1alpha1", "Rollout")
    )
    return {"apiVersion": api, "kind": kind, "metadata": ctx.meta(name, labels), "spec": spec}


def _service(
    ctx: Context,
    service_name: str,
    name: str,
    svc: Service,
    scrape: bool,
    headless: bool = False,
    annotations: dict[str, str] | None = None,
) -> Document:
    labels = ctx.labels(name, "service")
    if scrape:
        labels[SCRAPE_LABEL] = "true"
    spec: dict[str, Any] = {"type": "ClusterIP"}
    if headless:
        spec["clusterIP"] = "None"
    spec["selector"] = ctx.selector(name)
    spec["ports"] = [
        {
            "name": port_name(svc),
            "port": svc.port,
            "targetPort": port_name(svc),
            "protocol": "TCP",
            "appProtocol": app_protocol(svc),
        }
    ]
    if separate_metrics(svc):
        spec["ports"].append(
            {
                "name": "metrics",
                "port": METRICS_PORT,
                "targetPort": "metrics",
                "protocol": "TCP",
                "appProtocol": "http",
            }
        )
    if svc.protocol == "grpc" and name in ctx.graph.routed and not headless:
        # Kong's upstream protocol for routes to this Service.
        annotations = {**(annotations or {}), "konghq.com/protocol": "grpc"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": ctx.meta(service_name, labels, annotations),
        "spec": spec,
    }


def _container_ports(svc: Service) -> list[dict[str, Any]]:
    ports = [{"name": port_name(svc), "containerPort": svc.port, "protocol": "TCP"}]
    if separate_metrics(svc):
        ports.append({"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"})
    return ports


def _config(ctx: Context, name: str, svc: Service) -> Document:
    spec = ctx.arch.spec
    g = ctx.graph
    data: dict[str, str] = {
        "SERVICE_NAME": name,
        "SERVICE_VERSION": svc.version,
        "PORT": str(svc.port),
        "WORKERS": str(svc.workers),
        "CONCURRENCY": svc.concurrency,
    }
    if svc.queue_capacity is not None:
        data["QUEUE_CAPACITY"] = str(svc.queue_capacity)
    for callee in g.callees_of(name):
        target = spec.services[callee]
        url = (
            f"https://{callee}.example.com"
            if target.external
            else f"http://{ctx.host(callee)}:{target.port}"
        )
        data[f"{env_key(callee)}_URL"] = url
    for db in sorted(g.db_clients):
        if name in g.db_clients[db] and db in spec.databases:
            d = spec.databases[db]
            data[f"{env_key(db)}_ENGINE"] = d.engine
            data[f"{env_key(db)}_HOST"] = ctx.host(ctx.db_names[db])
            data[f"{env_key(db)}_PORT"] = str(d.port)
            data[f"{env_key(db)}_NAME"] = db.replace("-", "_")
    for broker in sorted(g.broker_clients):
        if name in g.broker_clients[broker] and broker in spec.brokers:
            b = spec.brokers[broker]
            host = ctx.host(ctx.broker_names[broker])
            port = BROKER_CLIENT_PORTS[b.type]
            scheme = {"kafka": "", "rabbitmq": "amqp://", "nats": "nats://"}[b.type]
            data[f"{env_key(broker)}_TYPE"] = b.type
            data[f"{env_key(broker)}_URL"] = f"{scheme}{host}:{port}"
    for store in sorted(g.store_clients):
        if name in g.store_clients[store] and store in spec.event_stores:
            host = ctx.host(ctx.store_names[store])
            data[f"{env_key(store)}_URL"] = f"esdb://{host}:{STORE_PORT}?tls=false"
    data.update(cache_config(ctx, name))
    if g.publishes.get(name):
        data["TOPICS_PUBLISHED"] = ",".join(sorted(g.publishes[name]))
    if g.consumes.get(name):
        data["TOPICS_CONSUMED"] = ",".join(sorted(g.consumes[name]))
        data["CONSUMER_GROUP"] = name
    data["OTEL_SERVICE_NAME"] = name
    data["OTEL_RESOURCE_ATTRIBUTES"] = f"service.namespace={ctx.ns},service.version={svc.version}"
    # Never OTEL_SDK_DISABLED: it switches metrics off too, and the rollout analyses and alerts
    # need them. Request metrics are served on `/metrics` of the `http` port (Prometheus format,
    # scraped by the ServiceMonitor); with the collector the SDK also pushes OTLP metrics there.
    data["METRICS_PATH"] = "/metrics"
    if ctx.tracing:
        data["OTEL_EXPORTER_OTLP_ENDPOINT"] = ctx.otlp_endpoint()
        data["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
        data["OTEL_TRACES_SAMPLER"] = "parentbased_always_on"
        data["OTEL_TRACES_EXPORTER"] = "otlp"
        data["OTEL_METRICS_EXPORTER"] = "otlp"
    else:
        data["OTEL_TRACES_EXPORTER"] = "none"
        data["OTEL_METRICS_EXPORTER"] = "none"
    data["OTEL_LOGS_EXPORTER"] = "none"
    if svc.clients:
        policies = {
            target: policy.model_dump(mode="json", by_alias=True, exclude_unset=True)
            for target, policy in sorted(svc.clients.items())
        }
        data["clients.yaml"] = dump_documents([policies])
        spring = application_yml(svc)
        if spring is not None:
            # The same policies in Resilience4j's own keys, for a Spring Boot service to load.
            data["application.yml"] = dump_documents([spring])
    for saga_name, saga in sorted(ctx.arch.spec.sagas.items()):
        if saga.mode == "orchestrated" and saga.orchestrator == name:
            # Steps, compensations, pivot, timeout and retry policy, for the orchestrator.
            definition = {saga_name: saga.model_dump(mode="json", by_alias=True)}
            data[f"saga-{saga_name}.yaml"] = dump_documents([definition])
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": ctx.meta(config_name(name), ctx.labels(name, "service")),
        "data": dict(sorted(data.items())),
    }


def _service_account(ctx: Context, name: str, svc: Service) -> Document:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": ctx.meta(name, ctx.labels(name, "service")),
        "automountServiceAccountToken": False,
    }


def _hpa(ctx: Context, name: str, svc: Service, kind: str) -> Document | None:
    a = svc.autoscaling
    if a is None:
        return None
    if a.metric == "cpu":
        # ContainerResource (GA in Kubernetes 1.30): the utilisation of the service's own
        # container, not the pod's average with the Istio sidecar's request mixed in.
        metric: dict[str, Any] = {
            "type": "ContainerResource",
            "containerResource": {
                "name": "cpu",
                "container": name,
                "target": {"type": "Utilization", "averageUtilization": round(a.target)},
            },
        }
    else:
        metric = {
            "type": "Pods",
            "pods": {
                "metric": {"name": "http_requests_per_second"},
                "target": {"type": "AverageValue", "averageValue": _quantity(a.target)},
            },
        }
    api = "apps/v1" if kind == "Deployment" else "argoproj.io/v1alpha1"
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": api, "kind": kind, "name": name},
        "minReplicas": a.min_replicas,
        "maxReplicas": a.max_replicas,
        "metrics": [metric],
    }
    if a.behavior is not None:
        behavior: dict[str, Any] = {}
        for key, rules in (("scaleUp", a.behavior.scale_up), ("scaleDown", a.behavior.scale_down)):
            if rules is None:
                continue
            out: dict[str, Any] = {}
            if rules.stabilization_window is not None:
                out["stabilizationWindowSeconds"] = seconds(rules.stabilization_window)
            out["selectPolicy"] = rules.select_policy
            if rules.policies:
                out["policies"] = [
                    {"type": p.type, "value": p.value, "periodSeconds": seconds(p.period, 1)}
                    for p in rules.policies
                ]
            behavior[key] = out
        if behavior:
            spec["behavior"] = behavior
    if a.tolerance != 0.1 or a.sync_period != 15.0:
        ctx.note(
            f"Service `{name}`: HPA tolerance and sync period are controller-wide settings "
            "(`--horizontal-pod-autoscaler-tolerance`, `--horizontal-pod-autoscaler-sync-period`"
            f"); the design asks for {a.tolerance} and {format_duration(a.sync_period)}."
        )
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": ctx.meta(name, ctx.labels(name, "service")),
        "spec": spec,
    }


def _quantity(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{round(value * 1000)}m"


def _pdb(ctx: Context, name: str, svc: Service) -> Document | None:
    most = svc.autoscaling.max_replicas if svc.autoscaling else svc.replicas
    if most <= 1:
        return None
    least = min_replicas(svc)
    budget: dict[str, Any] = {"minAvailable": least - 1} if least >= 2 else {"maxUnavailable": 1}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": ctx.meta(name, ctx.labels(name, "service")),
        "spec": {**budget, "selector": {"matchLabels": ctx.selector(name)}},
    }


def service_files(ctx: Context, name: str, svc: Service) -> dict[str, list[Document]]:
    """Files of one service's folder (relative to it), and the rollout folder's files."""
    parts = rollout_parts(ctx, name, svc)
    # Kong sends to the Service (not pod IPs) with the in-mesh Host, so the Kong pod's sidecar
    # applies this service's VirtualService (canary and split weights) and mTLS.
    annotations = (
        {
            "ingress.kubernetes.io/service-upstream": "true",
            "konghq.com/host-header": ctx.host(name),
        }
        if ctx.mesh and name in ctx.graph.routed
        else None
    )
    blue_green = parts is not None and parts.blue_green
    services = [_service(ctx, name, name, svc, scrape=not blue_green, annotations=annotations)]
    files: dict[str, list[Document]] = {
        "serviceaccount.yaml": [_service_account(ctx, name, svc)],
        "configmap.yaml": [_config(ctx, name, svc)],
    }
    if parts is None:
        files["deployment.yaml"] = [_workload(ctx, name, svc, None)]
    else:
        files["rollout.yaml"] = [_workload(ctx, name, svc, parts.strategy)]
        for extra in parts.extra_services:
            services.append(_service(ctx, extra, name, svc, scrape=False))
        if blue_green:
            services.append(
                _service(ctx, k8s_name(name, "metrics"), name, svc, scrape=True, headless=True)
            )
    files["service.yaml"] = services
    hpa = _hpa(ctx, name, svc, "Deployment" if parts is None else "Rollout")
    if hpa is not None:
        files["hpa.yaml"] = [hpa]
    pdb = _pdb(ctx, name, svc)
    if pdb is not None:
        files["pdb.yaml"] = [pdb]
    public = expose_ingress(ctx, name, svc)
    if public is not None:
        files["ingress.yaml"] = [public]
    return files
