"""write_tree: atomic writes, a manifest of what we own, and refusal to clobber anyone else's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalesim_patterns.generate import MANIFEST, WriteRefused, write_tree

FILES = {"README.md": "# x\n", "base/a.yaml": "a: 1\n", "base/sub/b.yaml": "b: 2\n"}


def _listing(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_fresh_directory_gets_files_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = write_tree(FILES, out)
    assert sorted(report.written) == sorted(FILES)
    assert _listing(out) == set(FILES) | {MANIFEST}
    assert (out / "base/sub/b.yaml").read_text() == "b: 2\n"
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["files"]) == set(FILES)
    assert not [p for p in out.rglob("*.tmp")]


def test_rerun_replaces_own_files_and_removes_stale_ones(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    (out / "notes.txt").write_text("mine")  # a file of the user's, never ours
    second = {"README.md": "# y\n", "base/a.yaml": "a: 1\n"}
    report = write_tree(second, out)
    assert report.written == ["README.md"]
    assert report.unchanged == ["base/a.yaml"]
    assert report.removed == ["base/sub/b.yaml"]
    assert not (out / "base/sub").exists()  # emptied directory pruned
    assert (out / "notes.txt").read_text() == "mine"
    assert _listing(out) == {"README.md", "base/a.yaml", "notes.txt", MANIFEST}


def test_foreign_non_empty_directory_is_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "base").mkdir()
    (out / "base/a.yaml").write_text("precious: true\n")
    with pytest.raises(WriteRefused, match="not generated"):
        write_tree(FILES, out)
    assert (out / "base/a.yaml").read_text() == "precious: true\n"
    report = write_tree(FILES, out, force=True)
    assert report.overwritten == ["base/a.yaml"]
    assert (out / "base/a.yaml").read_text() == "a: 1\n"
    assert (out / MANIFEST).is_file()


def test_edited_generated_file_is_a_conflict(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    (out / "base/a.yaml").write_text("a: 2  # tuned by hand\n")
    changed = {**FILES, "base/a.yaml": "a: 3\n"}
    with pytest.raises(WriteRefused) as refused:
        write_tree(changed, out)
    assert refused.value.conflicts == ["base/a.yaml"]
    assert (out / "base/a.yaml").read_text() == "a: 2  # tuned by hand\n"
    write_tree(changed, out, force=True)
    assert (out / "base/a.yaml").read_text() == "a: 3\n"


def test_edited_stale_file_is_kept_when_forced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    (out / "base/sub/b.yaml").write_text("edited\n")
    smaller = {"README.md": "# x\n"}
    with pytest.raises(WriteRefused):
        write_tree(smaller, out)
    report = write_tree(smaller, out, force=True)
    assert (out / "base/sub/b.yaml").read_text() == "edited\n"
    assert "base/a.yaml" in report.removed


def test_new_file_colliding_with_a_foreign_file_is_a_conflict(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    (out / "extra.yaml").write_text("theirs\n")
    with pytest.raises(WriteRefused):
        write_tree({**FILES, "extra.yaml": "ours\n"}, out)
    assert (out / "extra.yaml").read_text() == "theirs\n"


@pytest.mark.parametrize("bad", ["../escape.yaml", "/abs.yaml", MANIFEST, "a/../../b"])
def test_paths_outside_the_directory_are_rejected(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        write_tree({bad: "x"}, tmp_path / "out")
    assert not (tmp_path / "escape.yaml").exists()


def test_empty_existing_directory_is_fine_and_summary_counts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    report = write_tree(FILES, out)
    assert report.summary().endswith("3 written, 0 unchanged")
    assert write_tree(FILES, out).summary().endswith("0 written, 3 unchanged")
