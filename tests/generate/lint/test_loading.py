"""Loading: multi-document YAML, JSON, line numbers, parse errors, kustomizations, Lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalesim_patterns.generate.lint import Linter
from scalesim_patterns.generate.lint.loader import discover, load
from scalesim_patterns.generate.lint.sources import DiskSource

from .conftest import GOOD

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\n"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _rules(linter: Linter, *paths: Path) -> set[tuple[str, str, int, str]]:
    report = linter.lint_paths(paths)
    return {(f.rule, Path(f.file).name, f.line, f.path) for f in report.findings}


def test_document_start_lines_in_multi_document_file() -> None:
    loaded = load(DiskSource(), discover([GOOD / "cart-db" / "services.yaml"]))
    text = (GOOD / "cart-db" / "services.yaml").read_text().splitlines()
    second = text.index("---") + 2
    assert [(d.index, d.line, d.name) for d in loaded.documents] == [
        (0, 1, "cart-db-headless"),
        (1, second, "cart-db"),
    ]


def test_leading_separator_and_comments(linter: Linter, tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": "# header\n---\n" + CM.format(name="a") + "data:\n  k: 1\n"})
    # data values must be strings: the error points at the line of k
    assert _rules(linter, tmp_path) == {("SSP103", "a.yaml", 9, "data.k")}
    (doc,) = load(DiskSource(), discover([tmp_path])).documents
    assert (doc.index, doc.line) == (0, 3)


def test_json_files_keep_line_numbers(linter: Linter, tmp_path: Path) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j", "namespace": "s"}}
    obj["data"] = {"ok": "yes", "bad": 3}
    (tmp_path / "cm.json").write_text(json.dumps(obj, indent=2))
    lines = (tmp_path / "cm.json").read_text().splitlines()
    bad_line = next(i for i, line in enumerate(lines, 1) if '"bad"' in line)
    assert _rules(linter, tmp_path) == {("SSP103", "cm.json", bad_line, "data.bad")}


def test_yaml_syntax_error_keeps_earlier_documents(linter: Linter, tmp_path: Path) -> None:
    text = CM.format(name="a") + "data:\n  k: 1\n---\nkind: [unclosed\n"
    _write(tmp_path, {"a.yaml": text})
    report = linter.lint_paths([tmp_path])
    assert [(f.rule, f.line, f.doc_index) for f in report.findings] == [
        ("SSP103", 7, 0),
        ("SSP100", 10, 1),  # found at the end of the stream...
    ]
    assert "flow sequence started at line 9" in report.findings[1].message  # ...opened here


def test_duplicate_keys_are_reported_at_the_repeat(linter: Linter, tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": CM.format(name="a") + "data:\n  k: v\n  k: w\n"})
    assert _rules(linter, tmp_path) == {("SSP102", "a.yaml", 8, "data.k")}


def test_shape_problems(linter: Linter, tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "a.yaml": "- just\n- a list\n",
            "b.yaml": "apiVersion: v1\nmetadata:\n  name: x\n",
            "c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: s\n",
        },
    )
    assert _rules(linter, tmp_path) == {
        ("SSP101", "a.yaml", 1, ""),
        ("SSP101", "b.yaml", 1, "kind"),
        ("SSP101", "c.yaml", 3, "metadata.name"),
    }


def test_scalars_read_like_kubernetes(linter: Linter, tmp_path: Path) -> None:
    text = CM.format(name="a") + "  annotations:\n    built: 2024-01-01\ndata:\n  eq: =\n"
    _write(tmp_path, {"a.yaml": text})
    assert _rules(linter, tmp_path) == set()


def test_list_items_are_documents(linter: Linter, tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a, namespace: s}\n"
        "  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b, namespace: s}\n"
        "    data:\n      n: 1\n"
    )
    _write(tmp_path, {"list.yaml": text})
    report = linter.lint_paths([tmp_path])
    assert report.documents == 2
    assert [(f.rule, f.path, f.line, f.name) for f in report.findings] == [
        ("SSP103", "items[1].data.n", 11, "b")
    ]


def test_discover_skips_hidden_and_other_files(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "b.yml": "x: 1\n",
            "a.yaml": "x: 1\n",
            "sub/c.json": "{}",
            "sub/readme.md": "no",
            ".git/d.yaml": "x: 1\n",
            "Kustomization": "resources: []\n",
        },
    )
    names = [Path(p).relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert names == ["Kustomization", "a.yaml", "b.yml", "sub/c.json"]
    with pytest.raises(FileNotFoundError):
        discover([tmp_path / "missing"])


KUSTOMIZED = {
    "base/kustomization.yaml": "resources:\n  - cm.yaml\n  - extra\n",
    "base/cm.yaml": CM.replace("  namespace: shop\n", "").format(name="cfg"),
    "base/extra/kustomization.yaml": "resources: [more.yaml]\n",
    "base/extra/more.yaml": CM.replace("  namespace: shop\n", "").format(name="more"),
    "overlays/prod/kustomization.yaml": (
        "namespace: prod\nresources:\n  - ../../base\npatches:\n  - path: patch.yaml\n"
    ),
    "overlays/prod/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
}


def test_kustomize_namespace_and_followed_resources(linter: Linter, tmp_path: Path) -> None:
    _write(tmp_path, KUSTOMIZED)
    report = linter.lint_paths([tmp_path / "overlays" / "prod"])
    assert report.findings == []
    assert report.documents == 2  # base files were pulled in; the patch is not an object
    assert report.skipped_files == [str(tmp_path / "overlays" / "prod" / "patch.yaml")]
    loaded = load(DiskSource(), discover([tmp_path]))
    assert {(d.name, d.namespace) for d in loaded.documents} == {("cfg", "prod"), ("more", "prod")}


def test_base_alone_has_no_namespace(linter: Linter, tmp_path: Path) -> None:
    _write(tmp_path, KUSTOMIZED)
    assert _rules(linter, tmp_path / "base") == {
        ("SSP027", "cm.yaml", 3, "metadata.namespace"),
        ("SSP027", "more.yaml", 3, "metadata.namespace"),
    }


def test_kustomize_missing_paths(linter: Linter, tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "kustomization.yaml": (
                "resources:\n  - cm.yaml\n  - gone.yaml\n  - nokust\n"
                "  - https://github.com/example/remote//base?ref=v1\n"
                "patches:\n  - path: missing-patch.yaml\n"
                "patchesStrategicMerge:\n  - old.yaml\n"
            ),
            "cm.yaml": CM.format(name="a"),
            "nokust/x.yaml": CM.format(name="b"),
            "old.yaml": "kind: ConfigMap\n",
        },
    )
    assert _rules(linter, tmp_path) == {
        ("SSP047", "kustomization.yaml", 3, "resources[1]"),
        ("SSP047", "kustomization.yaml", 4, "resources[2]"),
        ("SSP047", "kustomization.yaml", 7, "patches[0].path"),
        ("SSP046", "kustomization.yaml", 8, "patchesStrategicMerge"),
    }


def test_lint_texts_matches_disk(linter: Linter) -> None:
    files = {
        str(p.relative_to(GOOD)): p.read_text() for p in sorted(GOOD.rglob("*")) if p.is_file()
    }
    report = linter.lint_texts(files)
    assert report.findings == [] and report.documents == 23
    files["catalog/deployment.yaml"] = files["catalog/deployment.yaml"].replace(
        "catalog:1.4.2", "catalog:latest"
    )
    (item,) = linter.lint_texts(files).findings
    assert (item.rule, item.file) == ("SSP005", "catalog/deployment.yaml")
