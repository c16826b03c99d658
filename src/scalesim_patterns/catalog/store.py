"""Reads the catalog's data files once, checks they agree with each other, and serves them.

The files ship inside the package; a broken cross-reference (a pattern naming a template that
does not exist, an index entry without its file) is a packaging bug, reported as a CatalogError
the first time anything asks the catalog a question, and caught by the tests long before that.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .entry import GROUPS, PatternEntry
from .errors import CatalogError
from .index import TemplateIndex, TemplateInfo

__all__ = [
    "PATTERNS_DIR",
    "PATTERN_ORDER",
    "TEMPLATES_DIR",
    "Catalog",
    "catalog",
    "did_you_mean",
]

_HERE = Path(__file__).resolve().parent
PATTERNS_DIR = _HERE / "patterns"
TEMPLATES_DIR = _HERE / "templates"
INDEX_FILE = TEMPLATES_DIR / "index.yaml"

PATTERN_ORDER: tuple[str, ...] = (
    "database-per-service",
    "strangler-fig",
    "saga",
    "event-sourcing",
    "api-gateway",
    "service-mesh",
    "circuit-breaker",
    "bulkhead",
    "distributed-tracing",
    "health-check-api",
    "blue-green",
    "canary",
)
"""The brief's twelve patterns in the brief's order; listings follow it."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A hint for an unknown name: the closest known one, or the list of known ones."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; known: {', '.join(names)}" if names else ""


@dataclass(frozen=True)
class Catalog:
    patterns: dict[str, PatternEntry]
    templates: dict[str, TemplateInfo]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read catalog file {path.name}: {exc}") from exc


def _load_patterns() -> dict[str, PatternEntry]:
    entries: dict[str, PatternEntry] = {}
    for path in sorted(PATTERNS_DIR.glob("*.yaml")):
        try:
            entry = PatternEntry.model_validate(_read_yaml(path))
        except ValidationError as exc:
            raise CatalogError(f"pattern file {path.name} is invalid:\n{exc}") from exc
        if entry.id != path.stem:
            raise CatalogError(f"pattern file {path.name} holds id '{entry.id}'")
        entries[entry.id] = entry
    unknown = sorted(set(entries) - set(PATTERN_ORDER))
    missing = [p for p in PATTERN_ORDER if p not in entries]
    if unknown or missing:
        raise CatalogError(
            f"pattern files do not match the catalog's list: missing {missing}, unexpected {unknown}"
        )
    return {pid: entries[pid] for pid in PATTERN_ORDER}


def _load_templates(pattern_ids: set[str]) -> dict[str, TemplateInfo]:
    try:
        index = TemplateIndex.model_validate(_read_yaml(INDEX_FILE))
    except ValidationError as exc:
        raise CatalogError(f"template index is invalid:\n{exc}") from exc
    out: dict[str, TemplateInfo] = {}
    for item in index.templates:
        if item.id in out:
            raise CatalogError(f"template index lists '{item.id}' twice")
        path = TEMPLATES_DIR / f"{item.id}.yaml"
        if not path.is_file():
            raise CatalogError(f"template index lists '{item.id}' but {path.name} does not exist")
        for pid in item.patterns:
            if pid not in pattern_ids:
                raise CatalogError(
                    f"template '{item.id}' names unknown pattern '{pid}'{did_you_mean(pid, pattern_ids)}"
                )
        out[item.id] = TemplateInfo(
            id=item.id,
            title=item.title,
            description=item.description,
            patterns=tuple(item.patterns),
            kind=item.kind,
            path=path,
        )
    files = {p.stem for p in TEMPLATES_DIR.glob("*.yaml")} - {INDEX_FILE.stem}
    extra = sorted(files - set(out))
    if extra:
        raise CatalogError(f"template files missing from the index: {', '.join(extra)}")
    return out


def _cross_check(patterns: dict[str, PatternEntry], templates: dict[str, TemplateInfo]) -> None:
    for entry in patterns.values():
        if entry.group not in GROUPS:  # pragma: no cover - the Literal type already ensures it
            raise CatalogError(f"pattern '{entry.id}' has unknown group '{entry.group}'")
        if entry.template not in templates:
            raise CatalogError(
                f"pattern '{entry.id}' names template '{entry.template}', which does not exist"
            )
        for example in entry.examples:
            if example.template is not None and example.template not in templates:
                raise CatalogError(
                    f"pattern '{entry.id}' example '{example.name}' names unknown template "
                    f"'{example.template}'"
                )
        for rel in entry.related:
            if rel.id not in patterns or rel.id == entry.id:
                raise CatalogError(f"pattern '{entry.id}' relates to unknown pattern '{rel.id}'")


@cache
def catalog() -> Catalog:
    """The checked catalog, read on first use and kept for the life of the process."""
    patterns = _load_patterns()
    templates = _load_templates(set(patterns))
    _cross_check(patterns, templates)
    return Catalog(patterns=patterns, templates=templates)
