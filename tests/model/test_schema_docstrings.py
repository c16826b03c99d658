"""The JSON Schema's field descriptions come from the attribute docstrings, read when the schema
is built (model/schema.py) rather than by pydantic's `use_attribute_docstrings` at import: the
schema must be the one that setting gives, byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from pydantic import ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema

from scalesim_patterns.model import json_schema
from scalesim_patterns.model.architecture import Architecture
from scalesim_patterns.model.base import Spec
from scalesim_patterns.model.schema import SCHEMA_ID, _DescribedFields

# A fresh process in which the models are built with pydantic's own docstring reading: the
# package `scalesim_patterns.model` is stood in for by an empty one, so that `base` loads (and
# its `Spec` gets the setting) before any model class is built from it.
PYDANTIC_READS_THEM = """
import json, pathlib, sys, types
import scalesim_patterns
package = types.ModuleType("scalesim_patterns.model")
package.__path__ = [str(pathlib.Path(scalesim_patterns.__file__).parent / "model")]
sys.modules["scalesim_patterns.model"] = package
from scalesim_patterns.model import base
base.Spec.model_config["use_attribute_docstrings"] = True
from scalesim_patterns.model.architecture import Architecture
print(json.dumps(Architecture.model_json_schema(by_alias=True, mode="validation")))
"""


def _descriptions(value: Any) -> int:
    if isinstance(value, dict):
        return ("description" in value) + sum(_descriptions(v) for v in value.values())
    if isinstance(value, list):
        return sum(_descriptions(v) for v in value)
    return 0


def test_the_schema_is_the_one_pydantic_reading_the_docstrings_gives() -> None:
    assert not Spec.model_config.get("use_attribute_docstrings")  # not read at import
    out = subprocess.run(
        [sys.executable, "-c", PYDANTIC_READS_THEM],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    theirs = json.loads(out.stdout)
    expected = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **theirs,
        "title": "ScaleSim Patterns architecture",
    }
    ours = json_schema()
    # What `scalesim schema` prints: the same text, keys in the same order.
    assert json.dumps(ours, indent=2) == json.dumps(expected, indent=2)
    # ... and the descriptions are the docstrings' doing: without them there are far fewer.
    bare = Architecture.model_json_schema(by_alias=True, mode="validation")
    assert _descriptions(bare) + 100 < _descriptions(ours) == _descriptions(theirs)


def _models(read_by_pydantic: bool) -> type[Spec]:
    """The same classes, with or without pydantic's docstring reading."""
    config = ConfigDict(use_attribute_docstrings=read_by_pydantic)

    class Inner(Spec):
        """An inner part."""

        model_config = config

        size: int = 1
        """How big.

        Second paragraph, indented in the source."""

    class Base(Spec):
        model_config = config

        kept: int = 1
        """Inherited as is."""
        redeclared: int = 2
        """The subclass declares it again, without a docstring."""
        explicit: int = Field(3, description="given by Field")
        """Not used: Field's description wins."""
        titled: int = Field(4, title="A title")
        """With a title."""
        undocumented: int = 5
        _private: int = 6
        """Not a field."""

    class Child(Base):
        model_config = config

        redeclared: int = 7
        inner: Inner = Inner()
        """A nested model, whose own description is its class docstring's."""
        maybe: Inner | None = None
        """Optional."""
        items: list[Inner] = []
        """Several."""
        same: Inner = Inner()
        """An inner part."""

    return Child


def test_docstrings_of_inherited_redeclared_explicit_and_nested_fields() -> None:
    theirs = _models(True).model_json_schema(by_alias=True, schema_generator=GenerateJsonSchema)
    ours = _models(False).model_json_schema(by_alias=True, schema_generator=_DescribedFields)
    bare = _models(False).model_json_schema(by_alias=True, schema_generator=GenerateJsonSchema)
    assert json.dumps(ours, indent=2) == json.dumps(theirs, indent=2)
    assert _descriptions(bare) == 2 and _descriptions(theirs) == 8
    props = ours["properties"]
    assert props["kept"]["description"] == "Inherited as is."
    assert "description" not in props["redeclared"]
    assert props["explicit"]["description"] == "given by Field"
    assert "description" not in props["same"]  # pydantic drops what the $ref already says
    assert ours["$defs"]["Inner"]["properties"]["size"]["description"] == (
        "How big.\n\nSecond paragraph, indented in the source."
    )
