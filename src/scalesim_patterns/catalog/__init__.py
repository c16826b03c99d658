"""The pattern catalog and the templates: what each pattern is for, and files to start from.

Patterns are data files (`patterns/<id>.yaml`) checked by `PatternEntry`; templates are
architecture files (`templates/<id>.yaml`) listed in `templates/index.yaml`. Both are read on
first use and checked against each other (see `store`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Architecture, loads
from .entry import GROUPS, PatternEntry
from .errors import CatalogError
from .index import TemplateInfo
from .setpath import Edit, apply_sets, parse_set
from .show import render_pattern
from .store import catalog, did_you_mean
from .topology import (
    Edge,
    Node,
    Topology,
    render_dot,
    render_json,
    render_mermaid,
    render_text,
    topology,
)

__all__ = [
    "CatalogError",
    "Edge",
    "Group",
    "Node",
    "PatternEntry",
    "TemplateInfo",
    "Topology",
    "apply_sets",
    "groups",
    "new",
    "parse_set",
    "pattern",
    "pattern_topology",
    "patterns",
    "render_dot",
    "render_json",
    "render_mermaid",
    "render_pattern",
    "render_text",
    "template",
    "template_architecture",
    "template_text",
    "templates",
    "topology",
]


@dataclass(frozen=True)
class Group:
    """A group of the brief (decomposition, data management, ...) with its patterns in order."""

    id: str
    title: str
    patterns: tuple[PatternEntry, ...]


def patterns() -> list[PatternEntry]:
    """All twelve patterns, in the brief's order."""
    return list(catalog().patterns.values())


def pattern(pattern_id: str) -> PatternEntry:
    """The pattern `pattern_id`; CatalogError with a did-you-mean when there is none."""
    entries = catalog().patterns
    try:
        return entries[pattern_id]
    except KeyError:
        raise CatalogError(
            f"no pattern '{pattern_id}'{did_you_mean(pattern_id, entries)}"
        ) from None


def groups() -> list[Group]:
    """The six groups in the brief's order, each with its patterns."""
    entries = patterns()
    return [
        Group(id=gid, title=title, patterns=tuple(p for p in entries if p.group == gid))
        for gid, title in GROUPS.items()
    ]


def templates() -> list[TemplateInfo]:
    """Every template: whole systems first, then one minimal template per pattern."""
    return list(catalog().templates.values())


def template(template_id: str) -> TemplateInfo:
    """The template `template_id`; CatalogError with a did-you-mean when there is none."""
    infos = catalog().templates
    try:
        return infos[template_id]
    except KeyError:
        raise CatalogError(
            f"no template '{template_id}'{did_you_mean(template_id, infos)}"
        ) from None


def template_text(template_id: str) -> str:
    """The template file exactly as shipped, comments included."""
    return template(template_id).path.read_text(encoding="utf-8")


def template_architecture(template_id: str) -> Architecture:
    """The template, parsed and validated."""
    info = template(template_id)
    return loads(info.path.read_text(encoding="utf-8"), str(info.path))


def pattern_topology(pattern_id: str) -> Topology:
    """The topology of a pattern's minimal template (what `scalesim catalog show` draws)."""
    return topology(template_architecture(pattern(pattern_id).template))


def new(template_id: str, sets: Sequence[str] = (), name: str | None = None) -> str:
    """YAML text of a new architecture file: the template with `name` and `--set` edits applied.

    Comments, anchors and key order are kept. `name` sets `metadata.name`. The result is
    validated; an error raises CatalogError naming the `--set` that caused it. With no edits
    the template text is returned unchanged.
    """
    text = template_text(template_id)
    edits: list[str | Edit] = []
    if name is not None:
        edits.append(
            Edit(source=f"name={name}", segments=("metadata", "name"), value=name, raw_value=True)
        )
    edits.extend(sets)
    return apply_sets(text, edits, f"{template_id}.yaml")
