"""Kustomize files: the base (everything as designed) and the dev and prod overlays.

Each overlay has its own namespace (prod the architecture's, dev `<namespace>-dev`; see
overlay_namespace.py). Apart from that the overlays only patch sizes: dev runs one replica of each service with half the resources and
no PodDisruptionBudgets (one replica cannot keep one available); prod is the base as designed.
Patches are JSON 6902 operations because they work the same on Deployments and on Argo Rollouts,
whose custom-resource lists a strategic merge would replace wholesale.
"""

from __future__ import annotations

from typing import Any

import yaml

from scalesim_patterns.model.service import Service

from .context import Context
from .names import MANAGED_BY
from .pods import resources
from .render import Document, dump_documents
from .secrets import secret_generator

__all__ = ["base_kustomization", "overlay_kustomizations"]

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"


def base_kustomization(ctx: Context, resources_: list[str]) -> Document:
    return {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "namespace": ctx.ns,
        "labels": [
            {
                "pairs": {
                    "app.kubernetes.io/managed-by": MANAGED_BY,
                    "app.kubernetes.io/part-of": ctx.arch.name,
                },
                "includeSelectors": False,
            }
        ],
        "resources": resources_,
        **({"secretGenerator": secret_generator(ctx.secrets)} if ctx.secrets else {}),
    }


def _dump_list(ops: list[dict[str, Any]]) -> str:
    """JSON 6902 operations as the YAML text of a `patch:` field."""
    text: str = yaml.safe_dump(ops, sort_keys=False, default_flow_style=False, width=4096)
    return text


def _dev_patches(ctx: Context, name: str, svc: Service) -> list[dict[str, Any]]:
    rollout = svc.deployment is not None and svc.deployment.strategy != "rolling"
    group, kind = ("argoproj.io", "Rollout") if rollout else ("apps", "Deployment")
    version = "v1alpha1" if rollout else "v1"
    ops: list[dict[str, Any]] = []
    if svc.autoscaling is None:
        ops.append({"op": "add", "path": "/spec/replicas", "value": 1})
    ops.append(
        {
            "op": "replace",
            "path": "/spec/template/spec/containers/0/resources",
            "value": resources(svc.resources, 0.5),
        }
    )
    dep = svc.deployment
    if dep is not None and dep.blue_green is not None and dep.blue_green.preview_replicas:
        ops.append(
            {"op": "replace", "path": "/spec/strategy/blueGreen/previewReplicaCount", "value": 1}
        )
    patches: list[dict[str, Any]] = [
        {
            "target": {"group": group, "version": version, "kind": kind, "name": name},
            "patch": _dump_list(ops),
        }
    ]
    if svc.autoscaling is not None:
        patches.append(
            {
                "target": {
                    "group": "autoscaling",
                    "version": "v2",
                    "kind": "HorizontalPodAutoscaler",
                    "name": name,
                },
                "patch": _dump_list(
                    [
                        {"op": "replace", "path": "/spec/minReplicas", "value": 1},
                        {"op": "replace", "path": "/spec/maxReplicas", "value": 1},
                    ]
                ),
            }
        )
    most = svc.autoscaling.max_replicas if svc.autoscaling else svc.replicas
    if most > 1:
        patches.append(
            {
                "patch": dump_documents(
                    [
                        {
                            "$patch": "delete",
                            "apiVersion": "policy/v1",
                            "kind": "PodDisruptionBudget",
                            "metadata": {"name": name, "namespace": ctx.ns},
                        }
                    ]
                )
            }
        )
    return patches


def overlay_kustomizations(
    ctx: Context, dev_namespace: str, namespace_patches: list[dict[str, Any]]
) -> dict[str, Document]:
    """Each overlay in its own namespace: its Namespace object, `namespace:` for every object,
    and for dev the patches that move the namespace inside strings (overlay_namespace.py)."""
    dev_patches: list[dict[str, Any]] = list(namespace_patches)
    for name, svc in ctx.deployed():
        dev_patches.extend(_dev_patches(ctx, name, svc))
    out: dict[str, Document] = {}
    for env, namespace, patches in (
        ("dev", dev_namespace, dev_patches),
        ("prod", ctx.ns, []),
    ):
        doc: dict[str, Any] = {
            "apiVersion": KUSTOMIZE_API,
            "kind": "Kustomization",
            "namespace": namespace,
            "resources": ["../../base", "namespace.yaml"],
            "labels": [{"pairs": {"scalesim.dev/environment": env}, "includeSelectors": False}],
        }
        if patches:
            doc["patches"] = patches
        out[f"overlays/{env}/kustomization.yaml"] = doc
    return out
