"""Each overlay in its own namespace, with every string that names the namespace following it.

Kustomize's `namespace:` sets `metadata.namespace` (and renames Namespace objects, kustomize
PR #2953), but never rewrites the namespace where it sits inside a string: in-cluster host names
(`svc.<ns>.svc.cluster.local` in ConfigMaps and Kong's `konghq.com/host-header`), Istio
principals (`cluster.local/ns/<ns>/sa/...`), PromQL `namespace="<ns>"` selectors, the monitors'
`namespaceSelector`, OpenTelemetry resource attributes. So the generator renders the tree a
second time for the dev namespace and writes every difference as a JSON 6902 `replace`
operation of the dev overlay: whatever a builder writes with the namespace, now or later, follows
it without a list of places to keep up to date.
"""

from __future__ import annotations

from typing import Any

from .context import GenerateError
from .render import Document, dump_yaml

__all__ = ["namespace_patches", "pointer"]


def pointer(path: tuple[str | int, ...]) -> str:
    """RFC 6901 JSON pointer of a path (`/` in a key is `~1`, `~` is `~0`)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _diff(prod: Any, dev: Any, path: tuple[str | int, ...], out: list[dict[str, Any]]) -> None:
    if path == ("metadata", "namespace"):
        return  # the namespace transformer's job
    if isinstance(prod, dict) and isinstance(dev, dict) and prod.keys() == dev.keys():
        for key in prod:
            _diff(prod[key], dev[key], (*path, key), out)
    elif isinstance(prod, list) and isinstance(dev, list) and len(prod) == len(dev):
        for i, (a, b) in enumerate(zip(prod, dev, strict=True)):
            _diff(a, b, (*path, i), out)
    elif prod != dev:
        if not path:
            raise GenerateError("internal: an object differs entirely between namespaces")
        out.append({"op": "replace", "path": pointer(path), "value": dev})


def _target(doc: Document) -> dict[str, str]:
    group, _, version = str(doc["apiVersion"]).rpartition("/")
    target = {"version": version, "kind": str(doc["kind"]), "name": str(doc["metadata"]["name"])}
    return {"group": group, **target} if group else target


def namespace_patches(
    prod: dict[str, list[Document]], dev: dict[str, list[Document]]
) -> list[dict[str, Any]]:
    """The dev overlay's patches turning the base (rendered for prod) into the dev rendering.

    Both renderings hold the same files, objects and names: only the namespace differs.
    """
    if prod.keys() != dev.keys():
        raise GenerateError("internal: the dev rendering has other files than prod")
    patches: list[dict[str, Any]] = []
    for path in sorted(prod):
        if not path.startswith("base/"):
            continue
        for a, b in zip(prod[path], dev[path], strict=True):
            if a["kind"] != b["kind"] or a["metadata"]["name"] != b["metadata"]["name"]:
                raise GenerateError(f"internal: {path} names objects after the namespace")
            ops: list[dict[str, Any]] = []
            _diff(a, b, (), ops)
            if ops:
                patches.append({"target": _target(a), "patch": dump_yaml(ops)})
    return patches
