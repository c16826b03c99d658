"""`scalesim lint`: offline validation of generated Kubernetes manifests.

Strict Kubernetes schemas for built-in kinds, strict CRD schemas for custom resources, and the
best-practice rules of generation.md, all reported with file:line. See docs/lint.md.
"""

from scalesim_patterns.generate.lint.crds import CrdSchemas, default_crd_paths, strict_schema
from scalesim_patterns.generate.lint.findings import Finding, LintReport, UncheckedResource
from scalesim_patterns.generate.lint.kube_schemas import (
    DEFAULT_KUBE_VERSION,
    available_kube_versions,
    resolve_kube_version,
)
from scalesim_patterns.generate.lint.linter import Linter, lint_paths
from scalesim_patterns.generate.lint.rules_catalog import RULES, Rule, Severity

__all__ = [
    "DEFAULT_KUBE_VERSION",
    "RULES",
    "CrdSchemas",
    "Finding",
    "LintReport",
    "Linter",
    "Rule",
    "Severity",
    "UncheckedResource",
    "available_kube_versions",
    "default_crd_paths",
    "lint_paths",
    "resolve_kube_version",
    "strict_schema",
]
