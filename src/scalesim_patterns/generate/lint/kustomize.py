"""Kustomize awareness: which files a kustomization pulls in and what it adds to them.

We lint files as written, not `kustomize build` output, so three things matter: a kustomization
is configuration, not an object (never schema-checked as one); the paths it names must exist; and
patch/generator inputs are fragments that would fail every object check, so they are skipped.
The namespace and labels a kustomization sets are attached to the documents it includes, so that
"namespace set" and label checks see what the cluster will see.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.paths import FieldPath
from scalesim_patterns.generate.lint.sources import FileSource

KUSTOMIZATION_FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

RefRole = Literal["resource", "fragment"]


@dataclass(frozen=True)
class PathRef:
    """A local path named in a kustomization; ``target`` is normalised but not resolved."""

    role: RefRole
    field_path: FieldPath
    entry: str
    target: str


def is_kustomization(file: str, data: Any) -> bool:
    if Path(file).name in KUSTOMIZATION_FILE_NAMES:
        return True
    api_version = data.get("apiVersion") if isinstance(data, dict) else None
    return isinstance(api_version, str) and api_version.startswith("kustomize.config.k8s.io/")


def _is_remote(entry: str) -> bool:
    return (
        "://" in entry
        or entry.startswith(("github.com/", "gitlab.com/", "bitbucket.org/", "git@", "git::"))
        or "?ref=" in entry
    )


def _strings(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, str)]


class Kustomization:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.dir = os.path.dirname(doc.file)
        self.data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}

    @property
    def namespace(self) -> str | None:
        value = self.data.get("namespace")
        return value if isinstance(value, str) and value else None

    @property
    def labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        common = self.data.get("commonLabels")
        if isinstance(common, dict):
            out.update({str(k): str(v) for k, v in common.items()})
        for entry in self.data.get("labels") or []:
            pairs = entry.get("pairs") if isinstance(entry, dict) else None
            if isinstance(pairs, dict):
                out.update({str(k): str(v) for k, v in pairs.items()})
        return out

    def _ref(self, role: RefRole, field_path: FieldPath, entry: str) -> PathRef | None:
        if _is_remote(entry):
            return None
        return PathRef(role, field_path, entry, os.path.normpath(os.path.join(self.dir, entry)))

    def _entries(self) -> Iterator[tuple[RefRole, FieldPath, str]]:
        data = self.data
        for key in ("resources", "components", "crds"):
            for i, entry in _strings(data.get(key)):
                yield "resource", (key, i), entry
        for i, entry in _strings(data.get("patchesStrategicMerge")):
            if "\n" not in entry:  # otherwise an inline patch, not a path
                yield "fragment", ("patchesStrategicMerge", i), entry
        for key in ("patches", "patchesJson6902", "replacements"):
            for i, item in enumerate(data.get(key) or []):
                path = item.get("path") if isinstance(item, dict) else None
                if isinstance(path, str):
                    yield "fragment", (key, i, "path"), path
        for key in ("configMapGenerator", "secretGenerator"):
            for i, gen in enumerate(data.get(key) or []):
                if not isinstance(gen, dict):
                    continue
                for j, entry in _strings(gen.get("files")):
                    yield "fragment", (key, i, "files", j), entry.partition("=")[2] or entry
                for j, entry in _strings(gen.get("envs")):
                    yield "fragment", (key, i, "envs", j), entry
                if isinstance(gen.get("env"), str):
                    yield "fragment", (key, i, "env"), gen["env"]
        for key in ("generators", "transformers", "validators"):
            for i, entry in _strings(data.get(key)):
                if "\n" not in entry:
                    yield "fragment", (key, i), entry
        openapi = data.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            yield "fragment", ("openapi", "path"), openapi["path"]

    def references(self) -> list[PathRef]:
        refs = (self._ref(role, path, entry) for role, path, entry in self._entries())
        return [ref for ref in refs if ref is not None]


def kustomization_in(source: FileSource, directory: str) -> str | None:
    for name in KUSTOMIZATION_FILE_NAMES:
        candidate = os.path.join(directory, name)
        if source.is_file(candidate):
            return candidate
    return None


def included_files(
    source: FileSource, kustomizations: dict[str, Kustomization], root: Kustomization
) -> dict[str, int]:
    """Files pulled in by ``root`` (directly or through nested kustomizations) with their depth."""
    out: dict[str, int] = {}
    seen: set[str] = set()
    stack: list[tuple[Kustomization, int]] = [(root, 1)]
    while stack:
        current, depth = stack.pop()
        if current.doc.file in seen:
            continue
        seen.add(current.doc.file)
        for ref in current.references():
            if ref.role != "resource":
                continue
            if source.is_dir(ref.target):
                nested_file = kustomization_in(source, ref.target)
                nested = kustomizations.get(nested_file) if nested_file else None
                if nested is not None:
                    stack.append((nested, depth + 1))
            elif ref.target not in out or out[ref.target] > depth:
                out[ref.target] = depth
    return out
