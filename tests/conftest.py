"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "src" / "scalesim_patterns" / "catalog" / "templates"
SHARED = REPO.parent / "shared"


@pytest.fixture
def ecommerce_text() -> str:
    return (TEMPLATES / "ecommerce.yaml").read_text(encoding="utf-8")
