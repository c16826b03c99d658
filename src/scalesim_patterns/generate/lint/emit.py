"""Turn (document, rule, path, message) into a positioned Finding."""

from __future__ import annotations

from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.paths import FieldPath, format_path
from scalesim_patterns.generate.lint.rules_catalog import RULES, Severity


def finding(
    doc: Document,
    rule: str,
    path: FieldPath,
    message: str,
    severity: Severity | None = None,
) -> Finding:
    """A finding at ``path`` of ``doc``, with the line of the deepest existing part of the path."""
    return Finding(
        severity=severity or RULES[rule].severity,
        rule=rule,
        file=doc.file,
        doc_index=doc.index,
        line=doc.line_at(path),
        kind=doc.kind,
        name=doc.name,
        path=format_path(doc.prefix + path),
        message=message,
    )
