"""A small `kustomize build` of generated trees, for tests on machines without kubectl.

It does what the generated kustomizations use and nothing else: `resources` (files and folders),
`namespace:` (every namespaced object, and Namespace objects renamed, as kustomize does since
PR #2953), `labels` (metadata only: the generator sets `includeSelectors: false`), `patches` with
a target and JSON 6902 operations (`add`/`replace`/`remove`), and strategic-merge `$patch: delete`
documents. Patches apply before the namespace, as kustomize orders its builtin transformers.
`test_overlay_namespaces.py` checks it against `kubectl kustomize` where kubectl is installed.
Generated Secrets (`secretGenerator`) are left out: nothing here reads them.
"""

from __future__ import annotations

import posixpath
from typing import Any

import yaml

_CLUSTER_SCOPED = {"Namespace", "ClusterIssuer", "KongClusterPlugin", "ClusterRole"}


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _apply_op(doc: dict[str, Any], op: dict[str, Any]) -> None:
    tokens = [_unescape(t) for t in op["path"].split("/")[1:]]
    parent: Any = doc
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    last = tokens[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op["op"] == "add":
            parent.insert(index, op["value"])
        elif op["op"] == "replace":
            parent[index] = op["value"]
        else:
            del parent[index]
    elif op["op"] == "remove":
        del parent[last]
    else:
        if op["op"] == "replace" and last not in parent:
            raise KeyError(f"replace of missing {op['path']}")
        parent[last] = op["value"]


def _matches(doc: dict[str, Any], target: dict[str, Any]) -> bool:
    group, _, version = doc["apiVersion"].rpartition("/")
    return (
        target.get("kind", doc["kind"]) == doc["kind"]
        and target.get("name", doc["metadata"]["name"]) == doc["metadata"]["name"]
        and target.get("group", group) == group
        and target.get("version", version) == version
    )


def build(files: dict[str, str], folder: str) -> list[dict[str, Any]]:
    """The objects `kustomize build folder` prints for a generated tree held in memory."""
    kust = yaml.safe_load(files[f"{folder}/kustomization.yaml"])
    docs: list[dict[str, Any]] = []
    for entry in kust.get("resources", []):
        path = posixpath.normpath(f"{folder}/{entry}")
        if f"{path}/kustomization.yaml" in files:
            docs.extend(build(files, path))
        else:
            docs.extend(d for d in yaml.safe_load_all(files[path]) if d is not None)
    for patch in kust.get("patches", []):
        body = yaml.safe_load_all(patch["patch"])
        if "target" in patch:
            ops = next(iter(body))
            hits = [d for d in docs if _matches(d, patch["target"])]
            assert len(hits) == 1, (patch["target"], len(hits))
            for op in ops:
                _apply_op(hits[0], op)
        else:
            for smp in body:
                assert smp.get("$patch") == "delete", smp
                docs = [
                    d
                    for d in docs
                    if (d["kind"], d["metadata"]["name"]) != (smp["kind"], smp["metadata"]["name"])
                ]
    for entry in kust.get("labels", []):
        for doc in docs:
            doc["metadata"].setdefault("labels", {}).update(entry["pairs"])
    namespace = kust.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] == "Namespace":
                doc["metadata"]["name"] = namespace
            elif doc["kind"] not in _CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = namespace
    return docs
