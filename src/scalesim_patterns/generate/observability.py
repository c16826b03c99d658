"""OpenTelemetry collector, ServiceMonitors and the alerting rules (SLOs, saturation, breakers,
sagas, projection lag).

Metric names the rules and analyses expect are the OpenTelemetry HTTP semantic conventions as
Prometheus exports them (`http_server_request_duration_seconds` histogram with
`http_route`, `http_request_method`, `http_response_status_code`; `http_server_active_requests`),
Resilience4j's Micrometer gauge `resilience4j_circuitbreaker_state{name,state}`, and cAdvisor /
kube-state-metrics for CPU and HPA state. docs/generate.md lists them.
"""

from __future__ import annotations

import math
from typing import Any

from scalesim_patterns.model.architecture import Slo
from scalesim_patterns.model.data import ENGINE_DEFAULTS, EventStore, Projection
from scalesim_patterns.model.distributions import LogNormal
from scalesim_patterns.model.resilience import ConsecutiveFailureBreaker, FailureRateBreaker
from scalesim_patterns.model.units import format_duration

from .context import Context
from .escape import go_template_text, promql_matcher, re2_quote
from .graph import endpoint_path
from .names import k8s_name
from .network import collector_policy
from .pods import container_security, pod_security
from .protocols import metrics_port_name
from .render import Document
from .rollouts import REQUESTS, ROLE_LABEL
from .services import SCRAPE_LABEL

__all__ = ["observability_files"]

ISTIO_CERTS = "/etc/prom-certs"


def prometheus_labels(ctx: Context, labels: dict[str, str]) -> dict[str, str]:
    """The object's labels plus those the Prometheus operator selects monitors and rules by."""
    return dict(sorted({**labels, **dict(ctx.options.prometheus_labels)}.items()))


def _num(value: float) -> str:
    return f"{round(value, 10):g}"


def collector(ctx: Context) -> Document:
    tracing = ctx.arch.spec.tracing
    assert tracing is not None
    processors: dict[str, Any] = {
        "memory_limiter": {
            "check_interval": "1s",
            "limit_percentage": 80,
            "spike_limit_percentage": 25,
        }
    }
    pipeline = ["memory_limiter"]
    if tracing.sampling < 1:
        percentage = round(tracing.sampling * 100, 6)
        processors["probabilistic_sampler"] = {"sampling_percentage": percentage}
        pipeline.append("probabilistic_sampler")
    processors["batch"] = {}
    pipeline.append("batch")
    if tracing.exporter == "zipkin":
        exporter_name = "zipkin"
        exporter: dict[str, Any] = {
            "endpoint": f"http://zipkin.{ctx.options.trace_backend_namespace}.svc.cluster.local:9411/api/v2/spans"
        }
    else:
        exporter_name = "otlp"
        exporter = {"endpoint": ctx.options.trace_backend, "tls": {"insecure": True}}
    spec: dict[str, Any] = {
        "mode": "deployment",
        "replicas": 2,
        "podDisruptionBudget": {"maxUnavailable": 1},
    }
    if ctx.mesh:
        spec["podAnnotations"] = {"sidecar.istio.io/inject": "false"}
    spec["podSecurityContext"] = pod_security()
    spec["securityContext"] = container_security()
    spec["resources"] = {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    # Probes on the health_check extension (the operator points them at 13133); self-metrics
    # (8888) and the metrics pipeline's exporter (8889) are scraped through the ServiceMonitors
    # the operator creates, labelled for the Prometheus operator's selector.
    spec["livenessProbe"] = {"initialDelaySeconds": 5, "periodSeconds": 10, "failureThreshold": 3}
    spec["readinessProbe"] = {"periodSeconds": 5, "failureThreshold": 3}
    spec["observability"] = {
        "metrics": {"enableMetrics": True, "extraLabels": dict(ctx.options.prometheus_labels)}
    }
    spec["config"] = {
        "extensions": {"health_check": {"endpoint": "0.0.0.0:13133"}},
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": "0.0.0.0:4317"},
                    "http": {"endpoint": "0.0.0.0:4318"},
                }
            }
        },
        "processors": processors,
        "exporters": {
            exporter_name: exporter,
            "prometheus": {
                "endpoint": "0.0.0.0:8889",
                "resource_to_telemetry_conversion": {"enabled": True},
            },
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "metrics": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "batch"],
                    "exporters": ["prometheus"],
                },
                "traces": {
                    "receivers": ["otlp"],
                    "processors": pipeline,
                    "exporters": [exporter_name],
                },
            },
        },
    }
    return {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": ctx.meta(ctx.collector_name(), ctx.labels(ctx.collector_name(), "collector")),
        "spec": spec,
    }


def service_monitor(ctx: Context, name: str) -> Document:
    svc = ctx.arch.spec.services.get(name)
    endpoint: dict[str, Any] = {
        "port": metrics_port_name(svc) if svc is not None else "http",
        "path": "/metrics",
        "interval": format_duration(ctx.options.scrape_interval),
    }
    mesh = ctx.arch.spec.mesh
    if ctx.mesh and mesh is not None and mesh.mtls == "STRICT":
        endpoint["scheme"] = "https"
        endpoint["tlsConfig"] = {
            "caFile": f"{ISTIO_CERTS}/root-cert.pem",
            "certFile": f"{ISTIO_CERTS}/cert-chain.pem",
            "keyFile": f"{ISTIO_CERTS}/key.pem",
            "insecureSkipVerify": True,
        }
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": ctx.meta(name, prometheus_labels(ctx, ctx.labels(name, "monitoring"))),
        "spec": {
            "selector": {"matchLabels": {**ctx.selector(name), SCRAPE_LABEL: "true"}},
            "namespaceSelector": {"matchNames": [ctx.ns]},
            "podTargetLabels": ["app.kubernetes.io/name", ROLE_LABEL],
            "endpoints": [endpoint],
        },
    }


def envoy_pod_monitor(ctx: Context) -> Document:
    """Istio's standard metrics (istio_requests_total, ...) from every sidecar of the namespace,
    as Istio's Prometheus-operator guide scrapes them; `role` lets them tell canary from stable."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": ctx.meta(
            k8s_name(ctx.arch.name, "envoy-stats"),
            prometheus_labels(ctx, ctx.labels(ctx.arch.name, "monitoring")),
        ),
        "spec": {
            "selector": {
                "matchExpressions": [{"key": "security.istio.io/tlsMode", "operator": "Exists"}]
            },
            "namespaceSelector": {"matchNames": [ctx.ns]},
            "podTargetLabels": ["app.kubernetes.io/name", ROLE_LABEL],
            "podMetricsEndpoints": [
                {
                    "port": "http-envoy-prom",
                    "path": "/stats/prometheus",
                    "interval": format_duration(ctx.options.scrape_interval),
                }
            ],
        },
    }


def _slo_selector(ctx: Context, slo: Slo) -> str | None:
    spec = ctx.arch.spec
    if slo.target.startswith("/"):
        route = (
            next((r for r in spec.gateway.routes if r.path == slo.target), None)
            if spec.gateway
            else None
        )
        if route is None:
            return None
        services = sorted({t.partition(".")[0] for t, _ in route.targets()})
        base = route.path.rstrip("/")
        matchers = [
            promql_matcher("namespace", ctx.ns),
            promql_matcher("app_kubernetes_io_name", "|".join(map(re2_quote, services)), "=~"),
            promql_matcher("http_route", f"{re2_quote(base)}(/.*)?", "=~"),
        ]
        if route.methods:
            methods = "|".join(map(re2_quote, route.methods))
            matchers.append(promql_matcher("http_request_method", methods, "=~"))
        return ",".join(matchers)
    service, _, endpoint = slo.target.partition(".")
    svc = spec.services.get(service)
    if svc is None or endpoint not in svc.endpoints:
        return None
    ep = svc.endpoints[endpoint]
    return ",".join(
        [
            promql_matcher("namespace", ctx.ns),
            promql_matcher("app_kubernetes_io_name", service),
            promql_matcher("http_route", endpoint_path(endpoint, ep.path)),
            promql_matcher("http_request_method", ep.method),
        ]
    )


def _error_ratio(sel: str, window: str) -> str:
    return (
        f'sum(rate({REQUESTS}_count{{{sel},http_response_status_code=~"5.."}}[{window}]))\n'
        f"  /\nsum(rate({REQUESTS}_count{{{sel}}}[{window}]))"
    )


def _slo_rules(ctx: Context) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for slo in ctx.arch.spec.slos:
        sel = _slo_selector(ctx, slo)
        if sel is None:
            continue
        labels = {"slo": slo.name, "target": slo.target}
        if slo.latency is not None:
            q = slo.latency_percentile / 100
            rules.append(
                {
                    "alert": "SLOLatencyBreached",
                    "expr": (
                        f"histogram_quantile({_num(q)},\n"
                        f"  sum by (le) (rate({REQUESTS}_bucket{{{sel}}}[5m])))\n"
                        f"  > {_num(slo.latency)}\n"
                    ),
                    "for": "10m",
                    "labels": {**labels, "severity": "warning"},
                    "annotations": {
                        "summary": f"{slo.name}: p{_num(slo.latency_percentile)} latency of "
                        f"{slo.target} above {format_duration(slo.latency)}",
                    },
                }
            )
        if slo.availability is not None:
            budget = 1 - slo.availability / 100
            for severity, long, short, factor, wait in (
                ("critical", "1h", "5m", 14.4, "2m"),
                ("warning", "6h", "30m", 6.0, "15m"),
            ):
                threshold = _num(factor * budget)
                rules.append(
                    {
                        "alert": "SLOErrorBudgetBurn",
                        "expr": (
                            f"(\n{_error_ratio(sel, long)}\n) > {threshold}\nand\n"
                            f"(\n{_error_ratio(sel, short)}\n) > {threshold}\n"
                        ),
                        "for": wait,
                        "labels": {**labels, "severity": severity, "window": long},
                        "annotations": {
                            "summary": f"{slo.name}: {slo.target} burns its "
                            f"{_num(slo.availability)}% availability budget {_num(factor)}× too fast "
                            f"over {long}",
                        },
                    }
                )
    return rules


def _saturation_rules(ctx: Context) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for name, svc in ctx.deployed():
        sel = f"{promql_matcher('namespace', ctx.ns)},{promql_matcher('app_kubernetes_io_name', name)}"
        labels = {"service": name}
        # A consumer that serves no HTTP (no callers, no route) has no active requests: the
        # gauge would stay 0 and the alert could never fire; its backlog is the broker's to watch.
        consumer_only = (
            not ctx.graph.callers_of(name)
            and name not in ctx.graph.routed
            and bool(ctx.graph.consumes.get(name))
        )
        if not consumer_only:
            rules.append(
                {
                    "alert": "WorkersSaturated",
                    "expr": f"max by (pod) (http_server_active_requests{{{sel}}}) / {svc.workers} > 0.9\n",
                    "for": "5m",
                    "labels": {**labels, "severity": "warning"},
                    "annotations": {
                        "summary": f"{name}: a replica has used over 90% of its {svc.workers} "
                        "workers for 5m"
                    },
                }
            )
        container = f"{promql_matcher('namespace', ctx.ns)},{promql_matcher('container', name)}"
        rules.append(
            {
                "alert": "CPUSaturated",
                "expr": (
                    f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{container}}}[5m]))\n"
                    f'  / sum by (pod) (kube_pod_container_resource_limits{{{container},resource="cpu"}})\n'
                    "  > 0.9\n"
                ),
                "for": "10m",
                "labels": {**labels, "severity": "warning"},
                "annotations": {"summary": f"{name}: a replica runs above 90% of its CPU limit"},
            }
        )
        if svc.autoscaling is not None:
            hpa = ",".join(
                [
                    promql_matcher("namespace", ctx.ns),
                    promql_matcher("horizontalpodautoscaler", name),
                ]
            )
            rules.append(
                {
                    "alert": "AutoscalerAtMaximum",
                    "expr": (
                        f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}}\n"
                        f"  >= kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}\n"
                    ),
                    "for": "15m",
                    "labels": {**labels, "severity": "warning"},
                    "annotations": {
                        "summary": f"{name}: the HPA has held {svc.autoscaling.max_replicas} "
                        "replicas (its maximum) for 15m"
                    },
                }
            )
    return rules


def _breaker_rules(ctx: Context) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for name, svc in ctx.deployed():
        targets = [t for t in sorted(svc.clients) if t != "*"]
        if "*" in svc.clients:
            targets = sorted(set(targets) | set(ctx.graph.callees_of(name)))
        for target in targets:
            breaker = svc.client_policy(target).circuit_breaker
            if not isinstance(breaker, FailureRateBreaker | ConsecutiveFailureBreaker):
                continue
            own = [
                promql_matcher("namespace", ctx.ns),
                promql_matcher("app_kubernetes_io_name", name),
            ]
            r4j = ",".join([*own, promql_matcher("name", target), promql_matcher("state", "open")])
            generated = ",".join([*own, promql_matcher("client", target)])
            # Resilience4j's Micrometer gauge (a Spring Boot service) or the generated service
            # code's own (`scalesim_client_breaker_state`, 2 = open): whichever the service has.
            rules.append(
                {
                    "alert": "CircuitBreakerOpen",
                    "expr": (
                        f"max(resilience4j_circuitbreaker_state{{{r4j}}}) > 0\n"
                        f"  or max(scalesim_client_breaker_state{{{generated}}}) >= 2\n"
                    ),
                    "for": "1m",
                    "labels": {"service": name, "target": target, "severity": "warning"},
                    "annotations": {
                        "summary": f"{name}: the circuit breaker on calls to {target} is open"
                    },
                }
            )
    return rules


SAGA_COMPENSATION_SHARE = 0.05
"""Alert when more than this share of a saga's runs end compensated (over 10 minutes)."""


def _saga_rules(ctx: Context) -> list[dict[str, Any]]:
    """Per orchestrated saga: the share compensated, and a saga running past its timeout
    (metrics the generated orchestrator exports: `scalesim_sagas_total`,
    `scalesim_saga_oldest_running_seconds`)."""
    rules: list[dict[str, Any]] = []
    deployed = {name for name, _ in ctx.deployed()}
    for saga_name, saga in sorted(ctx.arch.spec.sagas.items()):
        if saga.mode != "orchestrated" or saga.orchestrator not in deployed:
            continue
        base = [
            promql_matcher("namespace", ctx.ns),
            promql_matcher("app_kubernetes_io_name", saga.orchestrator),
            promql_matcher("saga", saga_name),
        ]
        sel = ",".join(base)
        compensated = ",".join([*base, promql_matcher("outcome", "compensated")])
        labels = {"service": saga.orchestrator, "saga": saga_name, "severity": "warning"}
        rules.append(
            {
                "alert": "SagaCompensationRateHigh",
                "expr": (
                    f"sum(rate(scalesim_sagas_total{{{compensated}}}[10m]))\n"
                    f"  / sum(rate(scalesim_sagas_total{{{sel}}}[10m])) > "
                    f"{_num(SAGA_COMPENSATION_SHARE)}\n"
                ),
                "for": "5m",
                "labels": dict(labels),
                "annotations": {
                    "summary": f"saga {saga_name}: more than "
                    f"{SAGA_COMPENSATION_SHARE:.0%} of runs end compensated"
                },
            }
        )
        if saga.timeout is not None:
            rules.append(
                {
                    "alert": "SagaOlderThanTimeout",
                    "expr": f"max(scalesim_saga_oldest_running_seconds{{{sel}}}) > "
                    f"{_num(saga.timeout)}\n",
                    "for": "1m",
                    "labels": dict(labels),
                    "annotations": {
                        "summary": f"saga {saga_name}: a run is older than its "
                        f"{_num(saga.timeout)}s timeout"
                    },
                }
            )
    return rules


PROJECTION_LAG_BUDGET = 30.0
"""Seconds of its own full-speed work a projection may be behind before the alert fires: the
read side then serves views that are about half a minute stale, which users notice."""

PROJECTION_GAP_METRIC = "eventuous_subscription_gap_count_events"
"""The gauge a catch-up subscription library exports for the gap between the stream's tail and
the last event processed, labelled `subscription_id` (Eventuous' documented name, "Subscription
diagnostics"); the generated service code does not run projections, so the projection runner
the user writes must export it (docs/generate.md)."""


def projection_capacity(store: EventStore, projection: Projection) -> float:
    """Events per second a projection applies at full speed: a batch per read plus the batch's
    handling, with the file's means (EventStoreDB's read figure when the file gives none)."""
    read = store.read_latency
    if read is None:
        p50, p99 = ENGINE_DEFAULTS["eventstoredb"]["read"]
        read = LogNormal(p50=p50, p99=p99)
    cycle = read.mean() + projection.batch * projection.handle.mean()
    return projection.batch / cycle if cycle > 0 else float("inf")


def projection_lag_budget(store: EventStore, projection: Projection) -> int:
    """The gap in events the alert tolerates: `PROJECTION_LAG_BUDGET` seconds of the
    projection's capacity (a gap it would take longer than that to drain), at least one batch."""
    capacity = projection_capacity(store, projection)
    if math.isinf(capacity):
        return projection.batch
    return max(projection.batch, math.ceil(PROJECTION_LAG_BUDGET * capacity))


def _projection_rules(ctx: Context) -> list[dict[str, Any]]:
    """Per projection run by a deployed service: `ProjectionLagHigh` when the subscription's gap
    stays above its budget for 5 minutes (a burst that drains sooner does not page)."""
    rules: list[dict[str, Any]] = []
    deployed = {name for name, _ in ctx.deployed()}
    for store_name, store in sorted(ctx.arch.spec.event_stores.items()):
        for projection in store.projections:
            if projection.service not in deployed:
                continue
            sel = ",".join(
                [
                    promql_matcher("namespace", ctx.ns),
                    promql_matcher("app_kubernetes_io_name", projection.service),
                    promql_matcher("subscription_id", projection.name),
                ]
            )
            budget = projection_lag_budget(store, projection)
            rules.append(
                {
                    "alert": "ProjectionLagHigh",
                    "expr": f"max({PROJECTION_GAP_METRIC}{{{sel}}}) > {budget}\n",
                    "for": "5m",
                    "labels": {
                        "service": projection.service,
                        "event_store": store_name,
                        "projection": projection.name,
                        "severity": "warning",
                    },
                    "annotations": {
                        "summary": f"projection {projection.name} of {store_name} is more than "
                        f"{budget} events behind (about {PROJECTION_LAG_BUDGET:g}s of its work) "
                        "for 5m: reads are stale"
                    },
                }
            )
    return rules


def prometheus_rule(ctx: Context) -> Document:
    groups = []
    for suffix, rules in (
        ("slo", _slo_rules(ctx)),
        ("saturation", _saturation_rules(ctx)),
        ("resilience", _breaker_rules(ctx)),
        ("saga", _saga_rules(ctx)),
        ("projection", _projection_rules(ctx)),
    ):
        for rule in rules:
            # Prometheus renders alert labels and annotations as Go templates: text from the
            # architecture file (SLO names, targets) must not open a template action.
            for key in ("labels", "annotations"):
                rule[key] = {k: go_template_text(v) for k, v in rule.get(key, {}).items()}
        if rules:
            groups.append({"name": f"{ctx.arch.name}.{suffix}", "rules": rules})
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": ctx.meta(
            k8s_name(ctx.arch.name, "alerts"),
            prometheus_labels(ctx, ctx.labels(ctx.arch.name, "monitoring")),
        ),
        "spec": {"groups": groups},
    }


def observability_files(ctx: Context) -> dict[str, list[Document]]:
    files: dict[str, list[Document]] = {}
    if ctx.tracing:
        files["otel-collector.yaml"] = [collector(ctx)]
        files["networkpolicy.yaml"] = [collector_policy(ctx)]
    for name, _ in ctx.deployed():
        files[f"servicemonitors/{name}.yaml"] = [service_monitor(ctx, name)]
    if ctx.mesh:
        files["podmonitor-envoy.yaml"] = [envoy_pod_monitor(ctx)]
    files["prometheusrule.yaml"] = [prometheus_rule(ctx)]
    return files
