"""Shared fixtures: the third-party CRD schemas bundled with the package, and one warm Linter
per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scalesim_patterns.generate.lint import Linter, LintReport
from scalesim_patterns.generate.lint.crds import BUNDLED_CRDS

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOOD = FIXTURES / "good"
REPO_ROOT = HERE.parents[2]
SHARED_CRDS = BUNDLED_CRDS

Problem = tuple[str, str, str]  # rule, file relative to the linted root, field path


def shared_crds() -> Path:
    """The CRD schema folder the package ships; its absence is a failure (a packaging fault)."""
    if not (SHARED_CRDS / "networking.istio.io" / "destinationrule_v1.json").is_file():
        pytest.fail(f"CRD schemas not found at {SHARED_CRDS}", pytrace=False)
    return SHARED_CRDS


@pytest.fixture(scope="session")
def crd_dir() -> Path:
    return shared_crds()


@pytest.fixture(scope="session")
def linter(crd_dir: Path) -> Linter:
    return Linter(crd_paths=[crd_dir])


def problems(report: LintReport, root: Path) -> set[Problem]:
    """Errors and warnings as (rule, relative file, path): what the mutation tests compare."""
    out: set[Problem] = set()
    for item in report.findings:
        if item.severity == "info":
            continue
        rel = Path(item.file).resolve().relative_to(root.resolve()).as_posix()
        out.add((item.rule, rel, item.path))
    return out


Edit = tuple[str, str, str]  # file, old text (must occur exactly once), new text


@pytest.fixture
def good_copy(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Copy the good fixture tree, apply textual edits (line numbers stay meaningful)."""

    def make(edits: tuple[Edit, ...] = (), delete: tuple[str, ...] = ()) -> Path:
        root = tmp_path / "good"
        shutil.copytree(GOOD, root)
        for rel, old, new in edits:
            file = root / rel
            text = file.read_text()
            assert text.count(old) == 1, f"edit target must occur once in {rel}: {old!r}"
            file.write_text(text.replace(old, new))
        for rel in delete:
            (root / rel).unlink()
        return root

    yield make
