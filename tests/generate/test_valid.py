"""Every generated object is valid: strict Kubernetes schemas, CRD schemas, and the project linter.

Inputs: every catalog template (whatever exists at test time), the pinned e-commerce design, and
synthetic designs that switch on every feature the generator maps (with and without the mesh,
each gateway auth type).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scalesim_patterns.generate import generate, write_secrets, write_tree
from scalesim_patterns.model import load

from . import schemas
from .helpers import architecture_templates, documents, shop
from .synthetic import synthetic_architecture

TEMPLATES = architecture_templates()
SYNTHETIC = [(12, True, "jwt"), (13, False, "key-auth"), (24, True, "oauth2"), (7, False, "none")]


def _schema_errors(files: dict[str, str]) -> list[str]:
    return [f"{path}: {e}" for path, doc in documents(files) for e in schemas.validate(doc)]


def test_there_are_templates() -> None:
    assert any(p.stem == "ecommerce" for p in TEMPLATES)


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_templates_match_schemas(path: Path) -> None:
    assert _schema_errors(generate(load(path))) == []


@pytest.mark.parametrize("n,mesh,auth", SYNTHETIC)
def test_synthetic_matches_schemas(n: int, mesh: bool, auth: str) -> None:
    files = generate(synthetic_architecture(n, mesh, auth))
    assert _schema_errors(files) == []


def test_schema_check_catches_a_misspelt_field() -> None:
    """The validator the tests rely on is strict for built-in kinds and custom resources alike."""
    bad_probe = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {},
            "template": {"spec": {"containers": [{"name": "a", "readinesProbe": {}}]}},
        },
    }
    bad_rule = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "x"},
        "spec": {"host": "x", "trafficPolicy": {"circuitBreaker": {"consecutiveErrors": 3}}},
    }
    assert schemas.validate(bad_probe) and schemas.validate(bad_rule)


def _lint(files: dict[str, str], tmp_path: Path) -> list[str]:
    """Errors of the project linter with the CRD schemas bundled with the package."""
    from scalesim_patterns.generate import lint

    write_tree(files, tmp_path / "out")
    write_secrets(tmp_path / "out", files)
    report = lint.lint_paths([tmp_path / "out"], crd_paths=[schemas.CRD_DIR])
    assert report.documents > 0
    return [f.render() for f in report.errors]


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_templates_pass_lint(path: Path, tmp_path: Path) -> None:
    assert _lint(generate(load(path)), tmp_path) == []


@pytest.mark.parametrize("n,mesh,auth", SYNTHETIC)
def test_synthetic_passes_lint(n: int, mesh: bool, auth: str, tmp_path: Path) -> None:
    assert _lint(generate(synthetic_architecture(n, mesh, auth)), tmp_path) == []


def test_pinned_shop_passes_lint(tmp_path: Path) -> None:
    assert _lint(generate(shop()), tmp_path) == []
