"""`install.sh`: the order a cluster needs, with kubectl waiting at each step.

Custom resources are refused until their CRDs are Established, and objects a controller acts on
are useless until it runs; so the script (1) waits for every CRD the manifests use and names the
add-on to install when one is missing, (2) waits for the controllers' Deployments in their
namespaces, (3) creates the overlay's namespace (with its injection label, before any pod
exists, or pods start without sidecars), (4) applies the overlay and (5) waits for the
certificate, the data stores and the workloads. The add-ons themselves are installed by the
team's own tooling (Helm values differ per cluster); docs/generate.md lists the versions the
output was written for.
"""

from __future__ import annotations

from dataclasses import dataclass

from .context import Context
from .escape import shell
from .render import Document
from .secrets import SECRETS_DIR

__all__ = ["Addon", "addons", "install_script"]


@dataclass(frozen=True)
class Addon:
    """One add-on: the API groups it serves, its CRDs, where it runs, what it was written for."""

    name: str
    groups: tuple[str, ...]
    crds: tuple[str, ...]
    namespace: str
    version: str


def _addons(ctx: Context) -> list[Addon]:
    o = ctx.options
    return [
        Addon(
            "cert-manager",
            ("cert-manager.io",),
            ("certificates.cert-manager.io",),
            "cert-manager",
            "1.15",
        ),
        Addon(
            "Istio",
            ("networking.istio.io", "security.istio.io"),
            (
                "virtualservices.networking.istio.io",
                "destinationrules.networking.istio.io",
                "peerauthentications.security.istio.io",
                "authorizationpolicies.security.istio.io",
                "requestauthentications.security.istio.io",
            ),
            o.istio_namespace,
            "1.22",
        ),
        Addon(
            "Kong Ingress Controller (DB-less, feature gate RewriteURIs=true)",
            ("configuration.konghq.com",),
            ("kongplugins.configuration.konghq.com", "kongconsumers.configuration.konghq.com"),
            o.kong_namespace,
            "3.3",
        ),
        Addon(
            "Gateway API CRDs (standard channel)",
            ("gateway.networking.k8s.io",),
            ("httproutes.gateway.networking.k8s.io", "gateways.gateway.networking.k8s.io"),
            "",
            "1.1",
        ),
        Addon(
            "Argo Rollouts",
            ("argoproj.io",),
            ("rollouts.argoproj.io", "analysistemplates.argoproj.io", "analysisruns.argoproj.io"),
            "argo-rollouts",
            "1.7",
        ),
        Addon(
            "Prometheus operator (kube-prometheus-stack)",
            ("monitoring.coreos.com",),
            (
                "servicemonitors.monitoring.coreos.com",
                "podmonitors.monitoring.coreos.com",
                "prometheusrules.monitoring.coreos.com",
            ),
            o.monitoring_namespace,
            "0.76 (chart 62)",
        ),
        Addon(
            "OpenTelemetry operator",
            ("opentelemetry.io",),
            ("opentelemetrycollectors.opentelemetry.io",),
            "opentelemetry-operator-system",
            "0.108",
        ),
    ]


def addons(ctx: Context) -> list[Addon]:
    """The add-ons in install order (cert-manager first: the OpenTelemetry operator's webhook
    needs it)."""
    return _addons(ctx)


def install_script(ctx: Context, docs: dict[str, list[Document]], dev_namespace: str) -> str:
    groups = {doc["apiVersion"].rpartition("/")[0] for items in docs.values() for doc in items}
    needed = [a for a in _addons(ctx) if groups.intersection(a.groups)]
    if any(a.groups == ("opentelemetry.io",) for a in needed) and not any(
        a.name == "cert-manager" for a in needed
    ):
        needed.insert(0, _addons(ctx)[0])
    ns = '"$ns"'
    lines = [
        "#!/bin/sh",
        "# Install in the order the cluster needs; every step waits for the one before.",
        "# Usage: sh install.sh [dev|prod]   (run from this folder; needs kubectl and a context)",
        "set -eu",
        'overlay="${1:-prod}"',
        "# Each overlay has its own namespace: the waits below follow the one installed.",
        f'case "$overlay" in dev) ns={shell(dev_namespace)};; prod) ns={shell(ctx.ns)};;'
        ' *) echo "usage: sh install.sh [dev|prod]" >&2; exit 2;; esac',
        'cd "$(dirname "$0")"',
        "",
        "need_crd() {",
        '  if ! kubectl get crd "$1" >/dev/null 2>&1; then',
        '    echo "missing CRD $1: install $2 first (docs/generate.md, Add-ons)" >&2; exit 1',
        "  fi",
        '  kubectl wait --for=condition=Established --timeout=120s "crd/$1"',
        "}",
        "controllers_ready() {",
        '  kubectl -n "$1" wait --for=condition=Available --timeout=300s deployment --all',
        "}",
        "",
        "echo '1/5 add-ons: CRDs established'",
    ]
    for addon in needed:
        for crd in addon.crds:
            lines.append(f"need_crd {shell(crd)} {shell(addon.name + ' ' + addon.version)}")
    lines.append("echo '2/5 add-ons: controllers available'")
    for namespace in dict.fromkeys(a.namespace for a in needed if a.namespace):
        lines.append(f"controllers_ready {shell(namespace)}")
    lines += [
        "echo '3/5 namespace (with its injection and Pod Security labels) before any pod'",
        'kubectl apply -f "overlays/$overlay/namespace.yaml"',
        f"kubectl wait --for=jsonpath='{{.status.phase}}'=Active --timeout=60s namespace/{ns}",
    ]
    values = [
        f"base/{SECRETS_DIR}/{spec.name}/{key}" for spec in ctx.secrets for key in spec.random_keys
    ]
    if values:
        lines += [
            f"for f in {' '.join(shell(v) for v in sorted(values))}; do",
            '  [ -s "$f" ] || { echo "$f is missing: run scalesim generate again (it creates'
            ' random values)" >&2; exit 1; }',
            "done",
        ]
    if ctx.mesh and ctx.arch.spec.gateway is not None:
        kong = shell(ctx.options.kong_namespace)
        lines += [
            f"if [ \"$(kubectl get namespace {kong} -o jsonpath='{{.metadata.labels.istio-injection}}')\""
            " != enabled ]; then",
            f'  echo "label namespace {ctx.options.kong_namespace} istio-injection=enabled and restart'
            ' Kong: it must reach the mesh with a sidecar" >&2; exit 1',
            "fi",
        ]
    lines += [
        "echo '4/5 application'",
        'kubectl apply -k "overlays/$overlay"',
        "echo '5/5 waiting for it to run'",
    ]
    for _path, items in sorted(docs.items()):
        for doc in items:
            name = shell(doc["metadata"]["name"])
            kind = doc["kind"]
            if kind == "Certificate":
                lines.append(
                    f"kubectl -n {ns} wait --for=condition=Ready --timeout=300s certificate/{name}"
                )
            elif kind == "StatefulSet":
                lines.append(f"kubectl -n {ns} rollout status --timeout=600s statefulset/{name}")
    if any(doc["kind"] == "Deployment" for items in docs.values() for doc in items):
        lines.append(
            f"kubectl -n {ns} wait --for=condition=Available --timeout=600s deployment --all"
        )
    if any(doc["kind"] == "Rollout" for items in docs.values() for doc in items):
        lines.append(
            f"kubectl -n {ns} wait --for=condition=Available --timeout=600s "
            "rollouts.argoproj.io --all"
        )
    lines.append(f'echo {shell(f"installed {ctx.arch.name} in namespace")} "$ns"')
    return "\n".join(lines) + "\n"
