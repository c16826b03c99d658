"""The lint driver: load documents, check schemas, run the rules, build the report."""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache

from scalesim_patterns.generate.lint import (
    rules_addons,
    rules_deploy,
    rules_kustomize,
    rules_objects,
    rules_pods,
    rules_values,
    rules_wiring,
)
from scalesim_patterns.generate.lint.context import RuleContext
from scalesim_patterns.generate.lint.crds import CrdSchemas, default_crd_paths
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import (
    Finding,
    LintReport,
    UncheckedResource,
    sort_findings,
)
from scalesim_patterns.generate.lint.kube_schemas import (
    OBJECT_META,
    KubeSchemas,
    resolve_kube_version,
)
from scalesim_patterns.generate.lint.loader import LoadedSet, discover, load
from scalesim_patterns.generate.lint.schema_errors import UNKNOWN_FIELD, schema_findings
from scalesim_patterns.generate.lint.sources import DiskSource, MemorySource

PathLike = str | os.PathLike[str]

RULE_CHECKS: tuple[Callable[[RuleContext], Iterator[Finding]], ...] = (
    rules_pods.check,
    rules_objects.check,
    rules_addons.check,
    rules_deploy.check,
    rules_kustomize.check,
    rules_values.check,
    rules_wiring.check,
)
_SCHEMA_RULES = {"SSP103", "SSP105"}


class Linter:
    """Holds loaded schemas and cached validators; reuse one instance for repeated runs.

    ``crd_paths`` None means :func:`default_crd_paths`; pass ``[]`` to check no custom resources.
    ``kube_version`` None means DEFAULT_KUBE_VERSION (see kube_schemas).
    """

    def __init__(
        self,
        crd_paths: Iterable[PathLike] | None = None,
        kube_version: str | None = None,
        disabled_rules: Iterable[str] = (),
        prometheus_labels: Iterable[tuple[str, str]] = (),
    ) -> None:
        started = time.perf_counter()
        self.kube = KubeSchemas(resolve_kube_version(kube_version))
        paths = list(default_crd_paths() if crd_paths is None else crd_paths)
        self.crds = CrdSchemas.from_paths(paths)
        self.disabled_rules = frozenset(disabled_rules)
        self.prometheus_labels = tuple(prometheus_labels)
        self.schema_seconds = 0.0  # cumulative time spent in schema validation
        self.schema_documents = 0
        self.load_seconds = time.perf_counter() - started

    @property
    def kube_version(self) -> str:
        return self.kube.version

    def lint_paths(self, paths: Iterable[PathLike]) -> LintReport:
        """Lint folders (recursively: *.yaml, *.yml, *.json, kustomizations) and files."""
        started = time.perf_counter()
        with _no_cyclic_gc():
            return self._lint(load(DiskSource(), discover(paths)), started)

    def lint_texts(self, files: Mapping[str, str]) -> LintReport:
        """Lint in-memory files (name -> text), e.g. generator output before it is written."""
        started = time.perf_counter()
        source = MemorySource(files)
        with _no_cyclic_gc():
            return self._lint(load(source, sorted(source.files)), started)

    def check_schema(self, doc: Document, unchecked: list[UncheckedResource]) -> list[Finding]:
        """Schema findings for one well-formed document (built-in or custom)."""
        started = time.perf_counter()
        found: list[Finding] = []
        group, version, kind = doc.group, doc.version, doc.kind
        if self.kube.has_group(group):
            validator = self.kube.validator(group, version, kind)
            if validator is None:
                served = self.kube.versions_of(group, kind)
                hint = (
                    f"; served: {', '.join(f'{group}/{v}' if group else v for v in served)}"
                    if served
                    else ""
                )
                found.append(
                    finding(
                        doc,
                        "SSP104",
                        ("apiVersion",),
                        f"Kubernetes {self.kube.version} serves no {kind} in {doc.api_version}{hint}",
                    )
                )
            else:
                found.extend(schema_findings(doc, validator.iter_errors(doc.data), "SSP103"))
        else:
            meta = doc.get("metadata")
            if isinstance(meta, dict):
                meta_validator = self.kube.definition_validator(OBJECT_META)
                errors = meta_validator.iter_errors(meta)
                found.extend(schema_findings(doc, errors, "SSP103", ("metadata",)))
            validator = self.crds.validator(group, version, kind)
            if validator is None:
                unchecked.append(
                    UncheckedResource(doc.file, doc.index, doc.api_version, kind, doc.name)
                )
                found.append(
                    finding(
                        doc,
                        "SSP106",
                        (),
                        f"no schema for {doc.api_version} {kind}; add its CRD to the CRD paths",
                    )
                )
            else:
                found.extend(schema_findings(doc, validator.iter_errors(doc.data), "SSP105"))
        self.schema_seconds += time.perf_counter() - started
        self.schema_documents += 1
        return found

    def _lint(self, loaded: LoadedSet, started: float) -> LintReport:
        findings: list[Finding] = list(loaded.findings)
        unchecked: list[UncheckedResource] = []
        objects: list[Document] = []
        for doc in loaded.documents:
            problem = _shape_problem(doc)
            if problem is not None:
                findings.append(finding(doc, "SSP101", problem[0], problem[1]))
                continue
            objects.append(doc)
            try:
                findings.extend(self.check_schema(doc, unchecked))
            except RecursionError:
                # Nesting hundreds of levels deep (valid YAML) exhausts the validator's stack;
                # no Kubernetes object is that deep, so say so instead of crashing.
                findings.append(
                    finding(doc, "SSP101", (), "document is nested too deeply to be checked")
                )
        context = RuleContext(
            objects,
            loaded.kustomizations,
            loaded.source,
            self.crds,
            self.kube.groups,
            self.prometheus_labels,
        )
        for check in RULE_CHECKS:
            findings.extend(check(context))
        findings = _dedupe([f for f in findings if f.rule not in self.disabled_rules])
        return LintReport(
            findings=sort_findings(findings),
            documents=len(loaded.documents),
            files=len(loaded.files),
            unchecked=unchecked,
            skipped_files=loaded.skipped_files,
            kube_version=self.kube.version,
            elapsed_seconds=time.perf_counter() - started,
        )


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while documents are built and checked.

    Parsing allocates millions of small containers that all stay alive; each full collection walks
    every one of them, and collections come more often as the heap grows, which made a 51 MB
    manifest superlinear. Parsed documents hold no reference cycles, so nothing is lost:
    reference counting frees them, and the previous state is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _shape_problem(doc: Document) -> tuple[tuple[str, ...], str] | None:
    if not isinstance(doc.data, dict):
        return (), f"document is a {type(doc.data).__name__}, not a mapping"
    for key in ("apiVersion", "kind"):
        value = doc.data.get(key)
        if not isinstance(value, str) or not value:
            return (key,), f"{key} is missing"
    meta = doc.data.get("metadata")
    if not isinstance(meta, dict):
        return ("metadata",), "metadata is missing"
    if not meta.get("name") and not meta.get("generateName"):
        return ("metadata", "name"), "metadata.name is missing"
    return None


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop exact repeats, and "unknown field" schema errors that a rule of ours explains.

    A DestinationRule ``circuitBreaker`` is both an unknown field and rule SSP041; the rule's
    message says what to write instead, so only it is kept. Other schema errors always stay.
    """
    explained = {
        (f.file, f.doc_index, f.path)
        for f in findings
        if f.rule not in _SCHEMA_RULES and f.severity == "error"
    }
    out: list[Finding] = []
    seen: set[Finding] = set()
    for item in findings:
        if item in seen:
            continue
        seen.add(item)
        place = (item.file, item.doc_index, item.path)
        if (
            item.rule in _SCHEMA_RULES
            and item.message.startswith(UNKNOWN_FIELD)
            and place in explained
        ):
            continue
        out.append(item)
    return out


@lru_cache(maxsize=4)
def _shared_linter(
    crd_paths: tuple[str, ...] | None,
    kube_version: str | None,
    prometheus_labels: tuple[tuple[str, str], ...] = (),
) -> Linter:
    return Linter(crd_paths, kube_version, prometheus_labels=prometheus_labels)


def lint_paths(
    paths: Iterable[PathLike],
    crd_paths: Iterable[PathLike] | None = None,
    kube_version: str | None = None,
    prometheus_labels: Iterable[tuple[str, str]] = (),
) -> LintReport:
    """Lint manifests under ``paths``; linters are cached per (crd_paths, kube_version, labels).

    ``prometheus_labels``: the labels the Prometheus operator selects monitors and rules by
    (SSP075); empty means: read them from a Prometheus object in the set, else require those
    most monitors and rules of the set carry.
    """
    key = None if crd_paths is None else tuple(os.fspath(p) for p in crd_paths)
    return _shared_linter(key, kube_version, tuple(prometheus_labels)).lint_paths(paths)
