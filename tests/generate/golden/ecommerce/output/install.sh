#!/bin/sh
# Install in the order the cluster needs; every step waits for the one before.
# Usage: sh install.sh [dev|prod]   (run from this folder; needs kubectl and a context)
set -eu
overlay="${1:-prod}"
# Each overlay has its own namespace: the waits below follow the one installed.
case "$overlay" in dev) ns=shop-dev;; prod) ns=shop;; *) echo "usage: sh install.sh [dev|prod]" >&2; exit 2;; esac
cd "$(dirname "$0")"

need_crd() {
  if ! kubectl get crd "$1" >/dev/null 2>&1; then
    echo "missing CRD $1: install $2 first (docs/generate.md, Add-ons)" >&2; exit 1
  fi
  kubectl wait --for=condition=Established --timeout=120s "crd/$1"
}
controllers_ready() {
  kubectl -n "$1" wait --for=condition=Available --timeout=300s deployment --all
}

echo '1/5 add-ons: CRDs established'
need_crd certificates.cert-manager.io 'cert-manager 1.15'
need_crd virtualservices.networking.istio.io 'Istio 1.22'
need_crd destinationrules.networking.istio.io 'Istio 1.22'
need_crd peerauthentications.security.istio.io 'Istio 1.22'
need_crd authorizationpolicies.security.istio.io 'Istio 1.22'
need_crd requestauthentications.security.istio.io 'Istio 1.22'
need_crd kongplugins.configuration.konghq.com 'Kong Ingress Controller (DB-less, feature gate RewriteURIs=true) 3.3'
need_crd kongconsumers.configuration.konghq.com 'Kong Ingress Controller (DB-less, feature gate RewriteURIs=true) 3.3'
need_crd rollouts.argoproj.io 'Argo Rollouts 1.7'
need_crd analysistemplates.argoproj.io 'Argo Rollouts 1.7'
need_crd analysisruns.argoproj.io 'Argo Rollouts 1.7'
need_crd servicemonitors.monitoring.coreos.com 'Prometheus operator (kube-prometheus-stack) 0.76 (chart 62)'
need_crd podmonitors.monitoring.coreos.com 'Prometheus operator (kube-prometheus-stack) 0.76 (chart 62)'
need_crd prometheusrules.monitoring.coreos.com 'Prometheus operator (kube-prometheus-stack) 0.76 (chart 62)'
need_crd opentelemetrycollectors.opentelemetry.io 'OpenTelemetry operator 0.108'
echo '2/5 add-ons: controllers available'
controllers_ready cert-manager
controllers_ready istio-system
controllers_ready kong
controllers_ready argo-rollouts
controllers_ready monitoring
controllers_ready opentelemetry-operator-system
echo '3/5 namespace (with its injection and Pod Security labels) before any pod'
kubectl apply -f "overlays/$overlay/namespace.yaml"
kubectl wait --for=jsonpath='{.status.phase}'=Active --timeout=60s namespace/"$ns"
for f in base/secrets/orders-db-credentials/password base/secrets/orders-db-credentials/root-password base/secrets/payments-db-credentials/password base/secrets/products-db-credentials/password base/secrets/users-db-credentials/password; do
  [ -s "$f" ] || { echo "$f is missing: run scalesim generate again (it creates random values)" >&2; exit 1; }
done
if [ "$(kubectl get namespace kong -o jsonpath='{.metadata.labels.istio-injection}')" != enabled ]; then
  echo "label namespace kong istio-injection=enabled and restart Kong: it must reach the mesh with a sidecar" >&2; exit 1
fi
echo '4/5 application'
kubectl apply -k "overlays/$overlay"
echo '5/5 waiting for it to run'
kubectl -n "$ns" rollout status --timeout=600s statefulset/events
kubectl -n "$ns" rollout status --timeout=600s statefulset/orders-db
kubectl -n "$ns" rollout status --timeout=600s statefulset/payments-db
kubectl -n "$ns" rollout status --timeout=600s statefulset/products-db
kubectl -n "$ns" rollout status --timeout=600s statefulset/users-db
kubectl -n "$ns" wait --for=condition=Ready --timeout=300s certificate/shop-tls
kubectl -n "$ns" wait --for=condition=Available --timeout=600s deployment --all
kubectl -n "$ns" wait --for=condition=Available --timeout=600s rollouts.argoproj.io --all
echo 'installed shop in namespace' "$ns"
