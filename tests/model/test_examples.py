"""Every example of docs/examples validates with no error and no warning."""

from __future__ import annotations

import pytest

from scalesim_patterns.model import validate

from ..conftest import REPO

EXAMPLES = sorted((REPO / "docs" / "examples").glob("*.yaml"))


def test_there_are_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= {"cpu-models", "jackson"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_clean(path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    arch, diags = validate(path)  # from the file: an example may name a CSV beside it
    assert arch is not None, [str(d) for d in diags]
    assert diags == [], [str(d) for d in diags]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_follows_the_json_schema(path: object) -> None:
    from pathlib import Path

    import jsonschema
    import yaml

    from scalesim_patterns.model import json_schema

    assert isinstance(path, Path)
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text("utf-8")))]
    assert errors == []
