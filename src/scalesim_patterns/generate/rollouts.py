"""Argo Rollouts: canary and blue-green strategies, and the AnalysisTemplates they run.

Analyses measure only the new pods: Argo labels canary, stable, preview and active pods with a
`role` label (canaryMetadata/stableMetadata, previewMetadata/activeMetadata), the ServiceMonitor
copies that label onto every series (podTargetLabels), and the queries filter on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalesim_patterns.model.service import Analysis, Health, Service
from scalesim_patterns.model.units import format_duration, parse_duration

from .context import Context
from .escape import promql_matcher, re2_quote
from .mesh import managed_route_names, uses_istio_canary
from .names import k8s_name
from .pods import DEFAULT_LIVENESS, DEFAULT_READINESS, seconds
from .render import Document
from .smoke import smoke_metric

__all__ = [
    "ROLE_LABEL",
    "RolloutParts",
    "analysis_queries",
    "non_user_paths",
    "rate_window",
    "rollout_parts",
    "user_traffic",
]

ROLE_LABEL = "role"
REQUESTS = "http_server_request_duration_seconds"


@dataclass
class RolloutParts:
    strategy: dict[str, Any]
    blue_green: bool
    extra_services: list[str] = field(default_factory=list)
    templates: list[Document] = field(default_factory=list)


def non_user_paths(svc: Service) -> list[str]:
    """Paths that are not user traffic: the probes and the metrics scrape."""
    health = svc.health or Health()
    paths = {"/metrics", DEFAULT_READINESS, DEFAULT_LIVENESS}
    for probe in (health.readiness, health.liveness, health.startup):
        if probe is not None and probe.path is not None:
            paths.add(probe.path)
    return sorted(paths)


def user_traffic(svc: Service) -> str:
    """A matcher that leaves probe and /metrics requests out of the request counts."""
    return promql_matcher("http_route", "|".join(map(re2_quote, non_user_paths(svc))), "!~")


def rate_window(ctx: Context, interval: float) -> str:
    """At least four scrapes (a rate needs two samples; four survive one missed scrape)."""
    return format_duration(max(interval, 4 * ctx.options.scrape_interval))


def _selector(ctx: Context, svc: Service, extra: str = "") -> str:
    return (
        f"{promql_matcher('namespace', ctx.ns)},"
        'app_kubernetes_io_name="{{args.service-name}}",'
        f'{ROLE_LABEL}="{{{{args.role}}}}",{user_traffic(svc)}{extra}'
    )


def analysis_queries(ctx: Context, svc: Service, window: str) -> dict[str, str]:
    """The three queries, each guarded so that it always returns one number.

    Argo Rollouts counts an empty result as an Error (index out of range in the condition) and
    aborts after consecutiveErrorLimit of them; a NaN (0/0 without traffic) fails any condition.
    So: a missing 5xx series counts as 0 errors (`or on() vector(0)`), no traffic makes the
    ratio empty (`> 0` on the denominator) and then 1, a NaN quantile is dropped (`>= 0`) and
    becomes 0, and the `requests` metric reports the missing traffic as inconclusive.
    """
    sel = _selector(ctx, svc)
    err = _selector(ctx, svc, ',http_response_status_code=~"5.."')
    return {
        "success-rate": (
            "(\n"
            f"  1 - (sum(rate({REQUESTS}_count{{{err}}}[{window}])) or on() vector(0))\n"
            f"    / (sum(rate({REQUESTS}_count{{{sel}}}[{window}])) > 0)\n"
            ") or on() vector(1)\n"
        ),
        "latency-p99": (
            "(\n"
            f"  histogram_quantile(0.99, sum by (le) (rate({REQUESTS}_bucket{{{sel}}}[{window}])))\n"
            "    >= 0\n"
            ") or on() vector(0)\n"
        ),
        "requests": f"sum(rate({REQUESTS}_count{{{sel}}}[{window}])) or on() vector(0)\n",
    }


def _template(
    ctx: Context, name: str, svc: Service, template: str, a: Analysis, smoke: bool = False
) -> Document:
    window = rate_window(ctx, a.interval)
    common: dict[str, Any] = {
        "interval": format_duration(a.interval),
        "count": a.count,
        "failureLimit": a.failure_limit,
    }
    queries = analysis_queries(ctx, svc, window)
    prometheus = ctx.options.prometheus_url

    def provider(metric: str) -> dict[str, Any]:
        return {"prometheus": {"address": prometheus, "query": queries[metric]}}

    metrics: list[dict[str, Any]] = [
        {
            "name": "success-rate",
            **common,
            "successCondition": f"result[0] >= {a.success_rate:g}",
            "provider": provider("success-rate"),
        }
    ]
    if a.max_latency_p99 is not None:
        metrics.append(
            {
                "name": "latency-p99",
                **common,
                "successCondition": f"result[0] <= {a.max_latency_p99:g}",
                "provider": provider("latency-p99"),
            }
        )
    # No traffic is neither a pass nor a failure: inconclusive pauses the rollout for a person
    # (neither condition holds), unless some measurement of the run saw requests.
    metrics.append(
        {
            "name": "requests",
            "interval": format_duration(a.interval),
            "count": a.count,
            "successCondition": "result[0] > 0",
            "failureCondition": "result[0] < 0",
            "inconclusiveLimit": a.count - 1,
            "provider": provider("requests"),
        }
    )
    if smoke:
        # Preview pods get no user traffic: a Job sends it (smoke.py), and every Prometheus
        # metric waits one rate window so its first measurement sees only that traffic.
        for metric in metrics:
            metric["initialDelay"] = window
        metrics.append(smoke_metric(ctx, name, svc, a, parse_duration(window)))
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": ctx.meta(template, ctx.labels(name, "rollout-analysis")),
        "spec": {"args": [{"name": "service-name"}, {"name": "role"}], "metrics": metrics},
    }


def _run(template: str, name: str, role: str) -> dict[str, Any]:
    return {
        "templates": [{"templateName": template}],
        "args": [{"name": "service-name", "value": name}, {"name": "role", "value": role}],
    }


def _role(role: str) -> dict[str, Any]:
    return {"labels": {ROLE_LABEL: role}}


def rollout_parts(ctx: Context, name: str, svc: Service) -> RolloutParts | None:
    """The Rollout strategy for a canary or blue-green service; None for a rolling update."""
    dep = svc.deployment
    if dep is None or dep.strategy == "rolling":
        return None
    if dep.strategy == "canary" and dep.canary is not None:
        canary = dep.canary
        parts = RolloutParts(strategy={}, blue_green=False)
        body: dict[str, Any] = {}
        if uses_istio_canary(ctx, svc):
            body["canaryMetadata"] = _role("canary")
            body["stableMetadata"] = _role("stable")
            body["trafficRouting"] = {
                "istio": {
                    "virtualService": {"name": name, "routes": managed_route_names(ctx, name)},
                    "destinationRule": {
                        "name": name,
                        "canarySubsetName": "canary",
                        "stableSubsetName": "stable",
                    },
                }
            }
        else:
            if canary.traffic_routing == "istio":
                ctx.note(
                    f"Service `{name}`: the canary asks for Istio traffic routing but the mesh is "
                    "off, so Argo Rollouts shifts traffic by replica counts."
                )
            canary_svc, stable_svc = k8s_name(name, "canary"), k8s_name(name, "stable")
            parts.extra_services = [canary_svc, stable_svc]
            body["canaryService"] = canary_svc
            body["stableService"] = stable_svc
            body["canaryMetadata"] = _role("canary")
            body["stableMetadata"] = _role("stable")
        if canary.analysis is not None:
            template = k8s_name(name, "background-analysis")
            parts.templates.append(_template(ctx, name, svc, template, canary.analysis))
            body["analysis"] = _run(template, name, "canary")
        steps: list[dict[str, Any]] = []
        for i, step in enumerate(canary.steps):
            if step.set_weight is not None:
                steps.append({"setWeight": step.set_weight})
            elif step.pause is not None:
                pause = step.pause.duration
                steps.append(
                    {"pause": {"duration": format_duration(pause)} if pause is not None else {}}
                )
            elif step.analysis is not None:
                template = k8s_name(name, f"step-{i}-analysis")
                parts.templates.append(_template(ctx, name, svc, template, step.analysis))
                steps.append({"analysis": _run(template, name, "canary")})
        body["steps"] = steps
        parts.strategy = {"canary": body}
        return parts
    if dep.strategy == "blue-green" and dep.blue_green is not None:
        bg = dep.blue_green
        preview = k8s_name(name, "preview")
        parts = RolloutParts(strategy={}, blue_green=True, extra_services=[preview])
        body = {"activeService": name, "previewService": preview}
        if bg.preview_replicas is not None:
            body["previewReplicaCount"] = bg.preview_replicas
        body["autoPromotionEnabled"] = bg.auto_promotion
        if bg.auto_promotion and bg.auto_promotion_delay is not None:
            body["autoPromotionSeconds"] = seconds(bg.auto_promotion_delay, 1)
        body["scaleDownDelaySeconds"] = seconds(bg.scale_down_delay)
        body["activeMetadata"] = _role("active")
        body["previewMetadata"] = _role("preview")
        for key, analysis, role in (
            ("prePromotionAnalysis", bg.pre_promotion_analysis, "preview"),
            ("postPromotionAnalysis", bg.post_promotion_analysis, "active"),
        ):
            if analysis is not None:
                suffix = "pre-promotion" if role == "preview" else "post-promotion"
                template = k8s_name(name, suffix)
                parts.templates.append(
                    _template(ctx, name, svc, template, analysis, smoke=role == "preview")
                )
                body[key] = _run(template, name, role)
        parts.strategy = {"blueGreen": body}
        return parts
    return None
