"""Offline schema validation for generated manifests, used until the project linter lands.

Built-in kinds are checked against the strict Kubernetes OpenAPI schemas bundled in
`kubernetes-validate` (unknown fields are errors); custom resources against the CRD JSON schemas
in `shared/schemas/crds`, made strict at the top level as well. One validator per kind, built
once per test session.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from scalesim_patterns.generate.lint.crds import BUNDLED_CRDS

KUBE_VERSION = "1.33.0"
REPO = Path(__file__).resolve().parents[2]
CRD_DIR = BUNDLED_CRDS
_K8S_DIR = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
UNCHECKED_KINDS = {
    ("networking.istio.io/v1", "ServiceEntry"),
    ("cert-manager.io/v1", "Certificate"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}
"""Kinds with no schema available offline."""


@functools.cache
def _k8s_registry() -> tuple[Path, Registry]:
    directory = _K8S_DIR / f"v{KUBE_VERSION}-local-strict"
    defs = json.loads((directory / "_definitions.json").read_text())
    return directory, Resource.from_contents(defs) @ Registry()


@functools.cache
def _k8s_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    directory, registry = _k8s_registry()
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = directory / f"{kind.lower()}-{api}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    group, _, version = api_version.rpartition("/")
    path = CRD_DIR / group / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    schema.setdefault("properties", {})
    schema["properties"].setdefault("apiVersion", {"type": "string"})
    schema["properties"].setdefault("kind", {"type": "string"})
    schema["properties"].setdefault("metadata", {"type": "object"})
    schema["additionalProperties"] = False
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group == "" or group.endswith(".k8s.io") or "." not in group


def validate(doc: dict[str, Any]) -> list[str]:
    """Every schema error of one document, as readable lines; [] when valid."""
    api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    if api.startswith("kustomize.config.k8s.io/"):
        return []
    name = (doc.get("metadata") or {}).get("name")
    if not name:
        return [f"{kind}: no metadata.name"]
    if (api, kind) in UNCHECKED_KINDS:
        return []
    validator = _k8s_validator(api, kind) if is_builtin(api) else _crd_validator(api, kind)
    if validator is None:
        return [f"{api} {kind}/{name}: no schema"]
    return [
        f"{kind}/{name}: {'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(doc)
    ]
