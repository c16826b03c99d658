"""Schemas of custom resources: loaded from CRDs or converted JSON schemas, made strict.

Two inputs are accepted, from files or folders:

* CRD YAML/JSON as users have it (``kubectl get crd NAME -o yaml``, several per file, or a
  ``kind: List``): every *served* version's ``openAPIV3Schema`` is converted;
* JSON schemas already converted from CRDs, in the ``<group>/<kind>_<version>.json`` layout of the
  public CRDs catalogue (the layout of ``shared/schemas/crds``).

Both go through the same conversion to a strict JSON schema, because the API server prunes or
rejects unknown fields while a plain OpenAPI schema lets them pass: ``additionalProperties:
false`` wherever ``properties`` are listed (unless ``x-kubernetes-preserve-unknown-fields``),
int-or-string as ``oneOf`` integer/string, ``nullable`` as an allowed null, and the implicit
``apiVersion``/``kind``/``metadata`` at the top (``metadata`` is checked separately against the
Kubernetes ObjectMeta schema).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator

from scalesim_patterns.generate.lint.cel import CrdValidator
from scalesim_patterns.generate.lint.schema_tools import map_schema, merge_type_alternatives
from scalesim_patterns.generate.lint.yaml_source import parse_text

ENV_VAR = "SCALESIM_CRDS"
BUNDLED_CRDS = Path(__file__).resolve().parent / "crd_schemas"
"""The CRD schemas shipped with the package (Istio, Argo Rollouts, Kong, prometheus-operator,
OpenTelemetry operator; converted by datreeio/CRDs-catalog, MIT: LICENSE and SOURCE.md there), so
`scalesim lint` checks the custom resources the generator writes wherever it is installed."""

# Istio serves the same schema under all its API versions; an object still written against an
# older version is checked with the v1 schema (and flagged as superseded by rule SSP043).
_SAME_SCHEMA_AS = {
    ("networking.istio.io", "v1alpha3"): "v1",
    ("networking.istio.io", "v1beta1"): "v1",
    ("security.istio.io", "v1beta1"): "v1",
}


@dataclass(frozen=True)
class CrdSchema:
    group: str
    version: str
    kind: str
    schema: dict[str, Any]
    source: str
    scope: str | None = None  # "Namespaced" / "Cluster" when known (CRDs say; JSON files don't)


def _allow_null(node: dict[str, Any]) -> dict[str, Any]:
    if "allOf" in node or "not" in node:
        return {"anyOf": [{"type": "null"}, node]}
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        node["type"] = [*kind, "null"]
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    for key in ("oneOf", "anyOf"):
        if isinstance(node.get(key), list):
            node[key] = [*node[key], {"type": "null"}]
    return node


def _strict_node(node: dict[str, Any]) -> dict[str, Any]:
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if preserve:
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]  # converters add it; the API server keeps unknowns
    elif "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if (
        node.get("x-kubernetes-int-or-string") is True
        and "oneOf" not in node
        and "anyOf" not in node
    ):
        node.pop("type", None)
        node["oneOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("x-kubernetes-embedded-resource") is True and "properties" in node:
        _add_object_header(node)
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # OpenAPI 3.0 uses booleans here; JSON Schema 2020-12 wants the bound itself.
        if isinstance(node.get(bound), bool) and node.pop(bound) and plain in node:
            node[bound] = node.pop(plain)
    merge_type_alternatives(node)
    if node.pop("nullable", False) is True:
        return _allow_null(node)
    return node


def _loose_node(node: dict[str, Any]) -> dict[str, Any]:
    if node.pop("nullable", False) is True:
        return _allow_null(node)
    return node


def _add_object_header(node: dict[str, Any]) -> None:
    props = node.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props.setdefault("metadata", {"type": "object"})


def strict_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """Convert a CRD's openAPIV3Schema (or a converted JSON schema) into a strict JSON schema."""
    metadata = (openapi.get("properties") or {}).get("metadata")
    result: dict[str, Any] = map_schema(openapi, _strict_node)
    if result.get("x-kubernetes-preserve-unknown-fields") is not True:
        result.setdefault("type", "object")
        _add_object_header(result)
        result["additionalProperties"] = False
        # The API server validates metadata as ObjectMeta; a CRD may only narrow it (name
        # length...), so keep its constraints but never close it to unknown keys here.
        loose = map_schema(metadata, _loose_node) if isinstance(metadata, dict) else None
        result["properties"]["metadata"] = loose or {"type": "object"}
    return result


def _field(parent: dict[str, Any], source: str, where: str, name: str) -> dict[str, Any]:
    """`parent[last part of name]` as a mapping: {} when absent, a `ValueError` when not one."""
    value = parent.get(name.rpartition(".")[2])
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(
            f"{source}: {where}: {name} must be a mapping, got {type(value).__name__} {value!r:.40}"
        )
    return value


class CrdSchemas:
    """Registry of custom-resource schemas keyed by (group, version, lower-cased kind).

    The first schema loaded for a key wins, so earlier paths (the SCALESIM_CRDS variable) take
    precedence over later ones (the shared folder).
    """

    def __init__(self) -> None:
        self._schemas: dict[tuple[str, str, str], CrdSchema] = {}
        self._validators: dict[tuple[str, str, str], Validator] = {}
        self._scopes: dict[tuple[str, str], str] = {}
        self.sources: list[str] = []

    @classmethod
    def from_paths(cls, paths: Iterable[str | os.PathLike[str]]) -> CrdSchemas:
        registry = cls()
        for path in paths:
            registry.add_path(path)
        return registry

    def __len__(self) -> int:
        return len(self._schemas)

    def gvks(self) -> list[tuple[str, str, str]]:
        return sorted(self._schemas)

    def add_path(self, path: str | os.PathLike[str]) -> None:
        """Load a CRD file, a converted schema file, or every such file under a folder."""
        root = Path(path)
        if not root.exists():
            raise FileNotFoundError(f"no CRD schemas at {root}")
        self.sources.append(str(root))
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            if file.suffix in (".json", ".yaml", ".yml"):
                self._add_file(file)

    def _add_file(self, file: Path) -> None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{file}: cannot read CRD file as UTF-8 text: {exc}") from exc
        if file.suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file}:{exc.lineno}: JSON syntax error: {exc.msg}") from exc
            if isinstance(data, dict) and "apiVersion" not in data and "properties" in data:
                self._add_catalog_schema(file, data)
                return
            docs = [data]
        else:
            parsed, error = parse_text(text, is_json=False)
            if error is not None:
                raise ValueError(f"{file}:{error.line}: {error.message}")
            docs = [item.data for item in parsed]
        for doc in docs:
            for crd in _crd_objects(doc):
                self.add_crd(crd, str(file))

    def _add_catalog_schema(self, file: Path, schema: dict[str, Any]) -> None:
        kind, sep, version = file.stem.rpartition("_")
        if not sep:
            raise ValueError(f"{file}: expected <group>/<kind>_<version>.json")
        self.add_schema(file.parent.name, version, kind, schema, str(file))

    def add_schema(
        self,
        group: str,
        version: str,
        kind: str,
        openapi: dict[str, Any],
        source: str,
        scope: str | None = None,
    ) -> None:
        key = (group, version, kind.lower())
        if key in self._schemas:
            return
        try:
            strict = strict_schema(openapi)
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            raise ValueError(
                f"{source}: the schema of {group}/{version} {kind} is malformed "
                f"({type(exc).__name__}: {exc}); fix or remove that CRD"
            ) from exc
        self._schemas[key] = CrdSchema(group, version, kind, strict, source, scope)
        if scope is not None:
            self._scopes.setdefault((group, kind.lower()), scope)

    def add_crd(self, crd: dict[str, Any], source: str) -> None:
        """Register every served version of a CustomResourceDefinition object.

        A CRD of the wrong shape (`spec: 5`, a version that is not a mapping) is a `ValueError`
        naming the file and the field, which `scalesim lint` reports with exit code 2.
        """
        name = _field(crd, source, "CRD", "metadata").get("name", "?")
        where = f"CRD {name}"
        spec = _field(crd, source, where, "spec")
        group, kind = spec.get("group"), _field(spec, source, where, "spec.names").get("kind")
        if not isinstance(group, str) or not isinstance(kind, str):
            raise ValueError(f"{source}: {where} without spec.group or spec.names.kind")
        scope = spec.get("scope") if isinstance(spec.get("scope"), str) else None
        shared = _field(spec, source, where, "spec.validation").get("openAPIV3Schema")
        versions = spec.get("versions") or []
        if not isinstance(versions, list):
            raise ValueError(f"{source}: {where}: spec.versions must be a list")
        for i, version in enumerate(versions):
            if not isinstance(version, dict):
                raise ValueError(f"{source}: {where}: spec.versions[{i}] must be a mapping")
            if version.get("served") is False:
                continue
            at = f"spec.versions[{i}].schema"
            schema = _field(version, source, where, at).get("openAPIV3Schema") or shared
            if isinstance(schema, dict):
                self.add_schema(group, str(version.get("name")), kind, schema, source, scope)
        if not spec.get("versions") and isinstance(shared, dict) and spec.get("version"):
            self.add_schema(group, str(spec["version"]), kind, shared, source, scope)

    def get(self, group: str, version: str, kind: str) -> CrdSchema | None:
        found = self._schemas.get((group, version, kind.lower()))
        if found is None and (group, version) in _SAME_SCHEMA_AS:
            found = self._schemas.get((group, _SAME_SCHEMA_AS[(group, version)], kind.lower()))
        return found

    def validator(self, group: str, version: str, kind: str) -> Validator | None:
        schema = self.get(group, version, kind)
        if schema is None:
            return None
        key = (schema.group, schema.version, kind.lower())
        cached = self._validators.get(key)
        if cached is None:
            cached = CrdValidator(schema.schema)
            self._validators[key] = cached
        return cached

    def scope(self, group: str, kind: str) -> str | None:
        return self._scopes.get((group, kind.lower()))


def _crd_objects(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    kind = doc.get("kind")
    if kind == "CustomResourceDefinition":
        return [doc]
    if isinstance(kind, str) and kind.endswith("List"):
        items = doc.get("items") or []
        if not isinstance(items, list):
            return []
        return [
            i for i in items if isinstance(i, dict) and i.get("kind") == "CustomResourceDefinition"
        ]
    return []


def _repo_root() -> Path | None:
    """The source checkout this module runs from (src layout), if it is one."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src").is_dir():
            return parent
    return None


def default_crd_paths() -> list[Path]:
    """Where CRD schemas are looked for when none are given, in precedence order.

    1. every entry of the SCALESIM_CRDS environment variable (os.pathsep-separated) that exists;
    2. ``../shared/schemas/crds`` relative to the current working directory;
    3. ``../shared/schemas/crds`` relative to the repository root, when running from a checkout;
    4. the schemas bundled with the package (:data:`BUNDLED_CRDS`), last: a schema found earlier
       for the same group, version and kind wins.

    Duplicates (same resolved folder) are listed once. An empty result means custom resources
    will be reported as unchecked.
    """
    candidates: list[Path] = []
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if entry.strip():
            candidates.append(Path(entry.strip()))
    candidates.append(Path.cwd() / ".." / "shared" / "schemas" / "crds")
    root = _repo_root()
    if root is not None:
        candidates.append(root / ".." / "shared" / "schemas" / "crds")
    candidates.append(BUNDLED_CRDS)
    out: list[Path] = []
    seen: set[Path] = set()
    for candidate in candidates:
        if not candidate.exists():
            continue
        resolved = candidate.resolve()
        if resolved not in seen:
            seen.add(resolved)
            out.append(resolved)
    return out


__all__ = [
    "BUNDLED_CRDS",
    "ENV_VAR",
    "CrdSchema",
    "CrdSchemas",
    "default_crd_paths",
    "strict_schema",
]
