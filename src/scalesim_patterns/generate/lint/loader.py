"""Collect manifest documents from folders and files, following kustomizations.

Output is deterministic: folders are walked in sorted order, files are named by their normalised
path as given (relative stays relative), and files reached only through a kustomization are
appended in the order they are first named.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.kustomize import (
    KUSTOMIZATION_FILE_NAMES,
    Kustomization,
    included_files,
    is_kustomization,
    kustomization_in,
)
from scalesim_patterns.generate.lint.sources import FileSource, UnreadableFile
from scalesim_patterns.generate.lint.yaml_source import ParseError, parse_text
from scalesim_patterns.model.yamlbounds import InputLimits, YamlLimitError, check_text

LINT_LIMITS = InputLimits(max_bytes=None)
"""Manifests may be large (files are read by the source); aliases and nesting stay bounded."""

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class LoadedSet:
    source: FileSource
    documents: list[Document] = field(default_factory=list)
    kustomizations: list[Kustomization] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)


class LintInputError(ValueError, FileNotFoundError):
    """A path given to lint is missing or is neither a file nor a folder (the CLI exits 2)."""


def is_manifest_file(name: str) -> bool:
    base = os.path.basename(name)
    return base.endswith(MANIFEST_SUFFIXES) or base in KUSTOMIZATION_FILE_NAMES


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Manifest files under ``paths`` (recursively, hidden folders skipped), de-duplicated."""
    out: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        key = os.path.realpath(name)
        if key not in seen:
            seen.add(key)
            out.append(os.path.normpath(name))

    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if is_manifest_file(name):
                        add(os.path.join(root, name))  # a FIFO is reported unreadable, not read
        elif os.path.isfile(path):
            add(path)
        elif os.path.exists(path):
            raise LintInputError(f"{path}: not a regular file or folder (a FIFO, socket or device)")
        else:
            raise LintInputError(f"no such file or folder: {path}")
    return out


class _Collector:
    def __init__(self, source: FileSource) -> None:
        self.result = LoadedSet(source=source)
        self._loaded: set[str] = set()

    def load_file(self, name: str) -> None:
        if name in self._loaded:
            return
        self._loaded.add(name)
        try:
            text = self.result.source.read_text(name)
        except UnreadableFile as exc:
            # Reported and counted: an unreadable file must fail the lint, never vanish from it.
            self.result.files.append(name)
            stub = Document(file=name, index=0, line=exc.line, data=None)
            self.result.findings.append(finding(stub, "SSP100", (), str(exc)))
            return
        if text is None:
            return
        self.result.files.append(name)
        try:  # aliases and nesting bounded as everywhere user YAML is read (docs/limits.md)
            check_text(text, LINT_LIMITS)
            parsed, error = parse_text(text, name.endswith(".json"))
        except YamlLimitError as exc:
            parsed, error = [], ParseError(exc.line, exc.message)
        if error is not None:
            stub = Document(file=name, index=len(parsed), line=error.line, data=None)
            self.result.findings.append(finding(stub, "SSP100", (), error.message))
        for item in parsed:
            if item.data is None:
                continue
            doc = Document(name, item.index, item.line, item.data, item.positions)
            for path, line in item.duplicate_keys:
                dup = finding(doc, "SSP102", path, f"key {path[-1]!r} repeats an earlier key")
                self.result.findings.append(replace(dup, line=line))
            for path, line in item.aliases:
                alias = finding(
                    doc,
                    "SSP074",
                    path,
                    "YAML alias or merge key (`*name`, `<<:`): the value is shared with its anchor "
                    "(`&name`), so an edit of one silently changes the other, and tools that "
                    "patch or diff manifests (kustomize, kubectl diff) expand it; write the "
                    "value out",
                )
                self.result.findings.append(replace(alias, line=line))
            if is_kustomization(name, item.data):
                self.result.kustomizations.append(Kustomization(doc))
            else:
                self.result.documents.extend(_expand_list(doc))

    def follow_kustomizations(self) -> None:
        """Load what kustomizations name as resources, even outside the paths given."""
        source = self.result.source
        done = 0
        while done < len(self.result.kustomizations):
            kustomization = self.result.kustomizations[done]
            done += 1
            for ref in kustomization.references():
                if ref.role != "resource":
                    continue
                if source.is_file(ref.target):
                    self.load_file(ref.target)
                elif source.is_dir(ref.target):
                    nested = kustomization_in(source, ref.target)
                    if nested is not None:
                        self.load_file(nested)

    def drop_fragments(self) -> None:
        """Patch and generator inputs are partial objects: take their documents out."""
        resources: set[str] = set()
        fragments: set[str] = set()
        for kustomization in self.result.kustomizations:
            for ref in kustomization.references():
                (resources if ref.role == "resource" else fragments).add(ref.target)
        skipped = fragments - resources
        if not skipped:
            return
        self.result.documents = [d for d in self.result.documents if d.file not in skipped]
        self.result.findings = [f for f in self.result.findings if f.file not in skipped]
        self.result.skipped_files = sorted(skipped & set(self.result.files))
        self.result.files = [f for f in self.result.files if f not in skipped]

    def apply_kustomize_context(self) -> None:
        """Give each document the namespace of its closest including kustomization, and labels."""
        by_file = {k.doc.file: k for k in self.result.kustomizations}
        namespace_for: dict[str, tuple[int, str]] = {}
        labels_for: dict[str, dict[str, str]] = {}
        for kustomization in self.result.kustomizations:
            files = included_files(self.result.source, by_file, kustomization)
            namespace, labels = kustomization.namespace, kustomization.labels
            for name, depth in files.items():
                if namespace is not None and (
                    name not in namespace_for or namespace_for[name][0] > depth
                ):
                    namespace_for[name] = (depth, namespace)
                if labels:
                    labels_for.setdefault(name, {}).update(labels)
        for doc in self.result.documents:
            if doc.file in namespace_for:
                doc.kustomize_namespace = namespace_for[doc.file][1]
            doc.kustomize_labels = labels_for.get(doc.file, {})


def _expand_list(doc: Document) -> list[Document]:
    """A ``kind: List`` stands for its items; each becomes a document of its own."""
    data = doc.data
    if not (isinstance(data, dict) and data.get("kind") == "List"):
        return [doc]
    items = data.get("items")
    if not isinstance(items, list):
        return [doc]
    return [
        Document(doc.file, doc.index, doc.line_at(("items", i)), item, doc.positions, ("items", i))
        for i, item in enumerate(items)
        if item is not None
    ]


def load(source: FileSource, files: Iterable[str]) -> LoadedSet:
    collector = _Collector(source)
    for name in files:
        collector.load_file(os.path.normpath(name))
    collector.follow_kustomizations()
    collector.drop_fragments()
    collector.apply_kustomize_context()
    return collector.result
