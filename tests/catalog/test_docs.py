"""docs/catalog.md stays in step with the catalog it describes."""

from __future__ import annotations

import re

from scalesim_patterns import catalog
from scalesim_patterns.catalog.setpath import parse_set

from ..conftest import REPO

DOC = REPO / "docs" / "catalog.md"


def _rows(heading: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_pattern_table_lists_every_pattern() -> None:
    rows = _rows("Patterns")
    assert [r[0].strip("`") for r in rows] == [p.id for p in catalog.patterns()]
    for row, entry in zip(rows, catalog.patterns(), strict=True):
        assert row[1] == entry.group.replace("-", " ")
        assert row[3] == f"`{entry.template}`"


def test_template_table_matches_the_files() -> None:
    rows = _rows("Templates")
    assert [r[0].strip("`") for r in rows] == [t.id for t in catalog.templates()]
    for row in rows:
        info = catalog.template(row[0].strip("`"))
        spec = catalog.template_architecture(info.id).spec
        external = sum(1 for s in spec.services.values() if s.external)
        services = str(len(spec.services) - external) + (
            f" + {external} external" if external else ""
        )
        assert row[1:4] == [info.title, info.kind, services]
        assert row[4].split(" ")[0] == str(len(spec.databases))
        assert row[5].split(", ") == list(spec.scenarios)


def test_documented_set_examples_parse() -> None:
    text = DOC.read_text(encoding="utf-8")
    for edit in re.findall(r"--set (\S+=\S+)", text):
        parse_set(edit.rstrip(":"))
