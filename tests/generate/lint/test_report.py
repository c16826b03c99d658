"""Report rendering, JSON output and the rule catalogue."""

from __future__ import annotations

import json
import re

from scalesim_patterns.generate.lint import RULES, Linter

from .conftest import FIXTURES

BAD = FIXTURES / "bad"

LINE = re.compile(
    r"^(?P<file>\S+):(?P<line>\d+): doc (?P<doc>\d+) (?P<obj>\S+/\S+): (?P<rest>.+) \[(?P<rule>SSP\d{3}) [a-z0-9-]+\]$"
)


def test_render_text_one_line_per_finding(linter: Linter) -> None:
    report = linter.lint_paths([BAD])
    lines = report.render_text().splitlines()
    assert len(lines) == len(report.findings) + 1
    for finding, line in zip(report.findings, lines, strict=False):
        match = LINE.match(line)
        assert match, line
        assert int(match["line"]) == finding.line and match["rule"] == finding.rule
        assert match["obj"] == f"{finding.kind}/{finding.name}"
    assert lines[-1].startswith("6 documents in 1 file checked against Kubernetes 1.33: ")
    assert f"{len(report.errors)} errors, {len(report.warnings)} warnings" in lines[-1]
    assert "1 unchecked custom resource (example.com/v1 Widget)" in lines[-1]


def test_bad_fixture_findings(linter: Linter) -> None:
    report = linter.lint_paths([BAD])
    assert not report.ok
    by_rule = {(f.rule, f.doc_index) for f in report.findings}
    assert {
        ("SSP103", 0),  # readinesProbe and runAsUser: "x"
        ("SSP043", 1),
        ("SSP041", 1),
        ("SSP042", 1),
        ("SSP040", 1),
        ("SSP105", 2),  # KongPlugin with spec
        ("SSP106", 3),
        ("SSP104", 4),
        ("SSP044", 5),
    } <= by_rule
    # findings are ordered by file, document, line
    keys = [(f.file, f.doc_index, f.line) for f in report.findings]
    assert keys == sorted(keys)


def test_to_json_round_trips(linter: Linter) -> None:
    report = linter.lint_paths([BAD])
    data = json.loads(report.to_json())
    assert data["ok"] is False
    assert data["documents"] == 6 and data["kube_version"] == "1.33"
    assert data["errors"] == len(report.errors)
    assert len(data["findings"]) == len(report.findings)
    first = data["findings"][0]
    assert set(first) == {
        "severity",
        "rule",
        "file",
        "doc_index",
        "line",
        "kind",
        "name",
        "path",
        "message",
    }
    assert data["unchecked"] == [
        {
            "file": str(BAD / "mixed.yaml"),
            "doc_index": 3,
            "api_version": "example.com/v1",
            "kind": "Widget",
            "name": "w",
        }
    ]


def test_disabled_rules(crd_dir: object) -> None:
    quiet = Linter(crd_paths=[str(crd_dir)], disabled_rules={"SSP030", "SSP106"})
    rules = {f.rule for f in quiet.lint_paths([BAD]).findings}
    assert "SSP030" not in rules and "SSP106" not in rules and "SSP005" in rules


def test_rule_catalogue_is_consistent() -> None:
    assert all(re.fullmatch(r"SSP\d{3}", rule_id) for rule_id in RULES)
    names = [rule.name for rule in RULES.values()]
    assert len(names) == len(set(names))
    assert {rule.severity for rule in RULES.values()} == {"error", "warning", "info"}
