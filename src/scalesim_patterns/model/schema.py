"""The JSON Schema of the architecture file, for editors (yaml-language-server) and CI checks."""

from __future__ import annotations

from typing import Any

from .architecture import Architecture

__all__ = ["SCHEMA_ID", "json_schema"]

SCHEMA_ID = "https://scalesim.dev/schemas/architecture-v1alpha1.json"


def json_schema() -> dict[str, Any]:
    schema = Architecture.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "ScaleSim Patterns architecture",
    }
