"""What a lint run produces: findings and the report that groups them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from scalesim_patterns.generate.lint.rules_catalog import RULES, Severity
from scalesim_patterns.terminal import printable

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One problem in one document; ``doc_index`` counts documents in the file from 0."""

    severity: Severity
    rule: str
    file: str
    doc_index: int
    line: int
    kind: str
    name: str
    path: str
    message: str

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.file, self.doc_index, self.line, self.rule, self.path, self.message)

    def render(self) -> str:
        rule = RULES.get(self.rule)
        tag = f"{self.rule} {rule.name}" if rule else self.rule
        obj = f"{self.kind or '?'}/{self.name or '?'}"
        where = f"{self.path}: " if self.path else ""
        text = f"{self.file}:{self.line}: doc {self.doc_index} {obj}: {where}{self.message} [{tag}]"
        return printable(text, keep_newlines=False)  # names and keys come from the linted file


@dataclass(frozen=True)
class UncheckedResource:
    """A custom resource whose group/version/kind has no schema in the registry."""

    file: str
    doc_index: int
    api_version: str
    kind: str
    name: str


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    documents: int = 0
    files: int = 0
    unchecked: list[UncheckedResource] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    kube_version: str = ""
    elapsed_seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        kinds = sorted({f"{u.api_version} {u.kind}" for u in self.unchecked})
        unchecked = f" ({', '.join(kinds)})" if kinds else ""
        return (
            f"{_count(self.documents, 'document')} in {_count(self.files, 'file')} checked "
            f"against Kubernetes {self.kube_version}: {_count(len(self.errors), 'error')}, "
            f"{_count(len(self.warnings), 'warning')}, "
            f"{_count(len(self.unchecked), 'unchecked custom resource')}{unchecked} "
            f"in {self.elapsed_seconds * 1000:.1f} ms"
        )

    def render_text(self) -> str:
        lines = [f.render() for f in self.findings]
        lines.append(printable(self.summary(), keep_newlines=False))
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "kube_version": self.kube_version,
            "documents": self.documents,
            "files": self.files,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "elapsed_seconds": self.elapsed_seconds,
            "findings": [asdict(f) for f in self.findings],
            "unchecked": [asdict(u) for u in self.unchecked],
            "skipped_files": list(self.skipped_files),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Deterministic order: by file and position, then severity so errors lead on a line."""
    return sorted(
        findings, key=lambda f: (*f.sort_key()[:3], _SEVERITY_ORDER[f.severity], *f.sort_key()[3:])
    )
