"""The JSON Schema of the architecture file, for editors (yaml-language-server) and CI checks.

A field's description is its attribute docstring, the string right under it in the class:

    replicas: int = 1
    \"\"\"Pods of the service.\"\"\"

pydantic's `use_attribute_docstrings=True` reads them while it builds each class, parsing every
class's source at import: 0.07 s of every `scalesim` command for what only this schema shows.
They are read here instead, from each model module's source, when the schema is built, and put
where that setting put them (the field's `description`, unless `Field(description=...)` gave
one); `tests/model/test_schema_docstrings.py` checks the schema equals the one pydantic's own
reading gives, byte for byte.
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from .architecture import Architecture
from .base import Spec

__all__ = ["SCHEMA_ID", "json_schema"]

SCHEMA_ID = "https://scalesim.dev/schemas/architecture-v1alpha1.json"


def json_schema() -> dict[str, Any]:
    schema = Architecture.model_json_schema(
        by_alias=True, mode="validation", schema_generator=_DescribedFields
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "ScaleSim Patterns architecture",
    }


class _DescribedFields(GenerateJsonSchema):
    """pydantic's generator, with the attribute docstrings of `Spec` classes' fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._models: list[type[Any]] = []

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        # The class whose fields `model_fields_schema` is about to see (nested models push
        # their own while their fields are generated).
        self._models.append(schema["cls"])
        try:
            return super().model_schema(schema)
        finally:
            self._models.pop()

    def model_fields_schema(self, schema: core_schema.ModelFieldsSchema) -> JsonSchemaValue:
        cls = self._models[-1] if self._models else None
        if cls is not None and issubclass(cls, Spec):
            docs = field_docstrings(cls)
            if docs:
                fields = {
                    name: _described(field, docs.get(name))
                    for name, field in schema["fields"].items()
                }
                schema = {**schema, "fields": fields}
        return super().model_fields_schema(schema)


def _described(field: core_schema.ModelField, doc: str | None) -> core_schema.ModelField:
    """The field's core schema with `doc` as its JSON Schema description, as pydantic puts a
    `FieldInfo.description` (`pydantic_js_updates`: title, description, then the rest)."""
    if doc is None:
        return field
    metadata: dict[str, Any] = field.get("metadata") or {}
    updates: dict[str, Any] = metadata.get("pydantic_js_updates") or {}
    ordered = {"title": updates["title"]} if "title" in updates else {}
    ordered["description"] = doc
    ordered.update(updates)  # a description from Field(description=...) wins
    return {**field, "metadata": {**metadata, "pydantic_js_updates": ordered}}


@cache
def field_docstrings(cls: type[Spec]) -> dict[str, str]:
    """Each field's attribute docstring, from the class that declares the field (a subclass
    that declares it again without one leaves it without)."""
    docs: dict[str, str] = {}
    for name in cls.model_fields:
        for owner in cls.__mro__:
            if name in vars(owner).get("__annotations__", {}):
                doc = attribute_docstrings(owner).get(name)
                if doc is not None:
                    docs[name] = doc
                break
    return docs


@cache
def attribute_docstrings(cls: type[Any]) -> dict[str, str]:
    """Names annotated in the class statement's own body, each followed by a string, mapped to
    that string (cleaned as `inspect.cleandoc` cleans docstrings)."""
    node = _class_statements(cls.__module__).get(cls.__qualname__)
    if node is None:
        return {}
    docs: dict[str, str] = {}
    for before, stmt in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(before, ast.AnnAssign)
            and isinstance(before.target, ast.Name)
            and isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            docs[before.target.id] = inspect.cleandoc(stmt.value.value)
    return docs


@cache
def _class_statements(module: str) -> dict[str, ast.ClassDef]:
    """Every class statement of a module by qualified name (the last one, if one repeats)."""
    found: dict[str, ast.ClassDef] = {}

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.ClassDef):
                found[prefix + node.name] = node
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, f"{prefix}{node.name}.<locals>.")
            else:  # the blocks of an if, try, with or for at this level
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []), prefix)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body, prefix)

    visit(ast.parse(inspect.getsource(sys.modules[module])).body, "")
    return found
