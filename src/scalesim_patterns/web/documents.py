"""An architecture text as the store keeps it: validated on every save, with the located
diagnostics of `scalesim validate` and a short summary for lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from scalesim_patterns.model import Architecture, Severity, validate_text

__all__ = ["Analysis", "analyse", "document_to_text"]


@dataclass(frozen=True)
class Analysis:
    arch: Architecture | None
    """The parsed architecture when the text has no error."""
    valid: bool
    diagnostics: list[dict[str, Any]]
    summary: dict[str, Any]


def analyse(text: str, name: str) -> Analysis:
    """Validate `text` the way `scalesim validate` does; diagnostics name `<name>.yaml`."""
    arch, diags = validate_text(text, f"{name}.yaml")
    errors = any(d.severity is Severity.ERROR for d in diags)
    valid = arch is not None and not errors
    summary: dict[str, Any] = {"services": 0, "databases": 0, "traffic": 0, "scenarios": []}
    if valid and arch is not None:
        summary = {
            "services": len(arch.spec.services),
            "databases": len(arch.spec.databases),
            "traffic": len(arch.spec.traffic),
            "scenarios": sorted(arch.spec.scenarios),
        }
    return Analysis(
        arch=arch if valid else None,
        valid=valid,
        diagnostics=[d.to_dict() for d in diags],
        summary=summary,
    )


def document_to_text(document: dict[str, Any]) -> str:
    """A JSON document of the file's structure as the YAML text that is stored."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)
