"""`generate()`: the whole output tree for one architecture, as relative path → file text."""

from __future__ import annotations

from collections import Counter
from typing import Any

from scalesim_patterns.model import Architecture

from . import kube_values, mesh, network
from .brokers import broker_files
from .caches import cache_files
from .code import service_code_files
from .context import Context, GenerateError
from .datastores import database_files, event_store_files
from .escape import check_design
from .gateway import gateway_files
from .install import install_script
from .kustomize import base_kustomization, overlay_kustomizations
from .names import MANAGED_BY
from .observability import observability_files
from .options import GenerateOptions
from .overlay_namespace import namespace_patches
from .readme import render_readme
from .render import Document, dump_documents
from .rollouts import rollout_parts
from .secrets import SECRETS_DIR, gitignore
from .services import service_files
from .smoke import has_smoke, smoke_objects

__all__ = ["dev_namespace", "generate", "generate_documents"]

_PEER_PORTS = {"kafka": [9092, 9093], "rabbitmq": [4369, 25672], "nats": [6222]}


def _namespace(ctx: Context) -> Document:
    labels = {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": ctx.arch.name,
        **ctx.arch.metadata.labels,
    }
    if ctx.mesh:
        labels["istio-injection"] = "enabled"
        labels["pod-security.kubernetes.io/audit"] = "restricted"
        labels["pod-security.kubernetes.io/warn"] = "restricted"
    else:
        labels["pod-security.kubernetes.io/enforce"] = "restricted"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": ctx.meta(ctx.ns, labels, namespaced=False),
    }


def _put(out: dict[str, list[Document]], prefix: str, files: dict[str, list[Document]]) -> None:
    for rel, docs in files.items():
        out[f"{prefix}/{rel}"] = docs


def generate_documents(
    arch: Architecture, options: GenerateOptions | None = None
) -> tuple[Context, dict[str, list[Document]]]:
    """The manifests as data (path → documents) with the context they were built in."""
    ctx = Context.build(arch, options or GenerateOptions())
    check_design(ctx)
    spec = arch.spec
    g = ctx.graph
    out: dict[str, list[Document]] = {
        "overlays/prod/namespace.yaml": [_namespace(ctx)],
        "base/network/networkpolicy.yaml": network.namespace_policies(ctx),
    }
    for name, svc in ctx.deployed():
        prefix = f"base/services/{name}"
        _put(out, prefix, service_files(ctx, name, svc))
        out[f"{prefix}/networkpolicy.yaml"] = [network.service_policy(ctx, name, svc)]
        parts = rollout_parts(ctx, name, svc)
        if parts is not None and parts.templates:
            out[f"base/rollouts/{name}/analysistemplate.yaml"] = parts.templates
        if has_smoke(svc):
            out[f"base/rollouts/{name}/smoke.yaml"] = smoke_objects(ctx, name, svc)
    for key, db in sorted(spec.databases.items()):
        name = ctx.db_names[key]
        prefix = f"base/databases/{name}"
        _put(out, prefix, database_files(ctx, key, db))
        ports = [p["containerPort"] for p in _ports(out[f"{prefix}/statefulset.yaml"][0])]
        out[f"{prefix}/networkpolicy.yaml"] = [
            network.store_policy(ctx, name, "database", g.db_clients.get(key, set()), ports, [])
        ]
    for key, store in sorted(spec.event_stores.items()):
        name = ctx.store_names[key]
        prefix = f"base/event-stores/{name}"
        _put(out, prefix, event_store_files(ctx, key, store))
        out[f"{prefix}/networkpolicy.yaml"] = [
            network.store_policy(
                ctx, name, "event-store", g.store_clients.get(key, set()), [2113], []
            )
        ]
    for key, broker in sorted(spec.brokers.items()):
        name = ctx.broker_names[key]
        prefix = f"base/brokers/{name}"
        _put(out, prefix, broker_files(ctx, key, broker))
        client_ports = {"kafka": [9092], "rabbitmq": [5672], "nats": [4222]}[broker.type]
        peers = _PEER_PORTS[broker.type] if broker.replicas > 1 else []
        out[f"{prefix}/networkpolicy.yaml"] = [
            network.store_policy(
                ctx, name, "broker", g.broker_clients.get(key, set()), client_ports, peers
            )
        ]
    _put(out, "base", cache_files(ctx))
    _put(out, "base/gateway", gateway_files(ctx))
    if ctx.mesh:
        _put(out, "base/mesh", mesh.namespace_policies(ctx))
        for name, svc in ctx.deployed():
            prefix = f"base/mesh/services/{name}"
            out[f"{prefix}/virtualservice.yaml"] = [mesh.virtual_service(ctx, name, svc)]
            out[f"{prefix}/destinationrule.yaml"] = [mesh.destination_rule(ctx, name, svc)]
            out[f"{prefix}/authorizationpolicy.yaml"] = [
                mesh.authorization_policies(ctx, name, svc)
            ]
            request_auth = mesh.request_authentication(ctx, name, svc)
            if request_auth is not None:
                out[f"{prefix}/requestauthentication.yaml"] = [request_auth]
        for name, svc in ctx.external():
            out[f"base/mesh/external/{name}.yaml"] = [mesh.service_entry(ctx, name, svc)]
    _put(out, "base/observability", observability_files(ctx))
    _check_unique(out)
    return ctx, dict(sorted(out.items()))


def _ports(statefulset: Document) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = statefulset["spec"]["template"]["spec"]["containers"][0]["ports"]
    return ports


def _check_unique(out: dict[str, list[Document]]) -> None:
    keys: Counter[tuple[str, str, str]] = Counter()
    for docs in out.values():
        for doc in docs:
            group = doc["apiVersion"].rpartition("/")[0]
            keys[(group, doc["kind"], doc["metadata"]["name"])] += 1
    clashes = sorted(f"{kind} {name}" for (_, kind, name), n in keys.items() if n > 1)
    if clashes:
        raise GenerateError(
            "two objects would share a name (rename a service, database or broker): "
            + ", ".join(clashes)
        )


def dev_namespace(arch: Architecture, options: GenerateOptions) -> str:
    """The dev overlay's namespace: `GenerateOptions.dev_namespace`, else `<namespace>-dev`."""
    return options.dev_namespace or f"{arch.namespace}-dev"


def _dev_rendering(
    arch: Architecture, options: GenerateOptions
) -> tuple[str, dict[str, list[Document]]]:
    """The same tree rendered into the dev overlay's namespace (checked like any namespace)."""
    name = dev_namespace(arch, options)
    where = f"the dev overlay's namespace {name!r} (--dev-namespace; default <namespace>-dev)"
    problem = kube_values.dns1123_label(name)
    if problem is not None:
        raise GenerateError(f"{where} is not a valid namespace name: {problem}")
    if name == arch.namespace:
        raise GenerateError(
            f"the dev overlay's namespace {name!r} is the prod one: give each its own "
            "(--dev-namespace)"
        )
    moved = arch.model_copy(
        update={"metadata": arch.metadata.model_copy(update={"namespace": name})}
    )
    try:
        return name, generate_documents(moved, options)[1]
    except GenerateError as exc:
        raise GenerateError(f"{where}: {exc}") from exc


def generate(arch: Architecture, options: GenerateOptions | None = None) -> dict[str, str]:
    """Every output file as relative path → text; the same input always gives the same bytes."""
    options = options or GenerateOptions()
    ctx, docs = generate_documents(arch, options)
    dev_ns, dev_docs = _dev_rendering(arch, options)
    files = {path: dump_documents(items) for path, items in docs.items()}
    files["overlays/dev/namespace.yaml"] = dump_documents(dev_docs["overlays/prod/namespace.yaml"])
    resources = sorted(path.removeprefix("base/") for path in docs if path.startswith("base/"))
    files["base/kustomization.yaml"] = dump_documents([base_kustomization(ctx, resources)])
    overlays = overlay_kustomizations(ctx, dev_ns, namespace_patches(docs, dev_docs))
    for path, doc in overlays.items():
        files[path] = dump_documents([doc])
    if ctx.secrets:
        files[f"base/{SECRETS_DIR}/.gitignore"] = gitignore()
    files["README.md"] = render_readme(ctx, docs, dev_ns)
    files["install.sh"] = install_script(ctx, docs, dev_ns)
    files.update(service_code_files(arch, [name for name, _ in ctx.deployed()]))
    return dict(sorted(files.items()))
