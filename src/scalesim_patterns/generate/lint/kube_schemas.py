"""Strict JSON schemas of built-in Kubernetes kinds, from the `kubernetes-validate` package.

The package ships, per Kubernetes minor version, a folder ``v1.NN.0-local-strict`` whose
``_definitions.json`` holds every OpenAPI definition (strict: ``additionalProperties: false``)
tagged with ``x-kubernetes-group-version-kind``. We read that file once, index it by
group/version/kind and build one validator per kind on first use. Each validator's schema has the
``$ref``s inlined (recursive ones stay references resolved through a `referencing` registry):
that removes a registry look-up per reference and makes warm validation about 40% faster.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from scalesim_patterns.generate.lint.schema_tools import map_schema, merge_type_alternatives

DEFAULT_KUBE_VERSION = "1.33"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

_FOLDER = re.compile(r"^v(\d+)\.(\d+)\.\d+-local-strict$")


def _schema_root() -> Any:
    return resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")


def _parse_minor(version: str) -> tuple[int, int]:
    match = re.match(r"^v?(\d+)\.(\d+)", version.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes version: {version!r} (expected e.g. 1.33)")
    return int(match.group(1)), int(match.group(2))


def available_kube_versions() -> list[str]:
    """Kubernetes minor versions with strict schemas in the installed package, oldest first."""
    found: list[tuple[int, int]] = []
    for entry in _schema_root().iterdir():
        match = _FOLDER.match(entry.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2))))
    return [f"{major}.{minor}" for major, minor in sorted(found)]


def resolve_kube_version(requested: str | None = None) -> str:
    """The shipped minor version to validate against: the newest not newer than ``requested``.

    ``None`` means DEFAULT_KUBE_VERSION (or the newest shipped if the package lacks it). Patch
    levels are ignored, as in the package itself: schemas barely change within a minor.
    """
    versions = available_kube_versions()
    if not versions:
        raise RuntimeError("kubernetes-validate ships no strict schemas")
    if requested is None:
        return DEFAULT_KUBE_VERSION if DEFAULT_KUBE_VERSION in versions else versions[-1]
    wanted = _parse_minor(requested)
    usable = [v for v in versions if _parse_minor(v) <= wanted]
    if not usable:
        raise ValueError(
            f"no schemas for Kubernetes {requested}; available: {versions[0]}..{versions[-1]}"
        )
    if wanted > _parse_minor(versions[-1]):
        raise ValueError(
            f"Kubernetes {requested} is newer than the newest schemas ({versions[-1]})"
        )
    return usable[-1]


class KubeSchemas:
    """Validators for built-in kinds of one Kubernetes minor version, built lazily and cached."""

    def __init__(self, version: str) -> None:
        self.version = version
        major, minor = _parse_minor(version)
        folder = _schema_root().joinpath(f"v{major}.{minor}.0-local-strict")
        raw = json.loads(folder.joinpath("_definitions.json").read_text(encoding="utf-8"))
        self._base_uri: str = raw["$id"]
        self._defs: dict[str, Any] = raw["$defs"]
        resource: Resource[Any] = DRAFT202012.create_resource(raw)
        self._registry: Registry[Any] = Registry().with_resource(self._base_uri, resource)
        self._index: dict[tuple[str, str, str], str] = {}
        self.groups: set[str] = set()
        for name, definition in self._defs.items():
            gvks = definition.get("x-kubernetes-group-version-kind") or []
            if len(gvks) != 1:
                continue  # shared meta types (DeleteOptions, WatchEvent) list every group
            gvk = gvks[0]
            key = (gvk["group"], gvk["version"], gvk["kind"])
            self._index[key] = name
            self.groups.add(gvk["group"])
        self._validators: dict[str, Validator] = {}

    def has_group(self, group: str) -> bool:
        return group in self.groups

    def versions_of(self, group: str, kind: str) -> list[str]:
        """API versions under which this Kubernetes version serves ``kind`` in ``group``."""
        return sorted(v for g, v, k in self._index if g == group and k == kind)

    def validator(self, group: str, version: str, kind: str) -> Validator | None:
        name = self._index.get((group, version, kind))
        return None if name is None else self.definition_validator(name)

    def definition_validator(self, name: str) -> Validator:
        cached = self._validators.get(name)
        if cached is None:
            schema = self._inline({"$ref": f"#/$defs/{name}"}, frozenset())
            cached = Draft202012Validator(schema, registry=self._registry)
            self._validators[name] = cached
        return cached

    def _inline(self, node: Any, expanding: frozenset[str]) -> Any:
        def visit(schema: dict[str, Any]) -> dict[str, Any]:
            ref = schema.get("$ref")
            if not isinstance(ref, str) or "#/$defs/" not in ref:
                return merge_type_alternatives(schema)
            target = ref.rpartition("#/$defs/")[2]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            if target in expanding:
                return {**rest, "$ref": f"{self._base_uri}#/$defs/{target}"}
            body = self._inline(self._defs[target], expanding | {target})
            return {"allOf": [body], **rest} if rest else dict(body)

        result: Any = map_schema(node, visit)
        return result
