"""CRD schema loading: conversion of openAPIV3Schema to strict JSON schema, and discovery."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from scalesim_patterns.generate.lint import CrdSchemas, Linter, default_crd_paths, strict_schema
from scalesim_patterns.generate.lint.crds import BUNDLED_CRDS, ENV_VAR

from .conftest import FIXTURES, REPO_ROOT, shared_crds

TOYS = FIXTURES / "crds" / "toys.yaml"


def _widget(spec: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "apiVersion": "toys.example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "toys"},
        "spec": spec,
        **top,
    }


@pytest.fixture(scope="module")
def toys() -> CrdSchemas:
    return CrdSchemas.from_paths([TOYS, FIXTURES / "crds" / "list.yaml"])


def _errors(registry: CrdSchemas, obj: dict[str, Any]) -> list[tuple[str, str]]:
    group, _, version = obj["apiVersion"].rpartition("/")
    validator = registry.validator(group, version, obj["kind"])
    assert validator is not None
    return sorted(
        (".".join(map(str, e.absolute_path)), str(e.validator)) for e in validator.iter_errors(obj)
    )


def test_registry_holds_served_versions_only(toys: CrdSchemas) -> None:
    assert toys.gvks() == [
        ("toys.example.com", "v1", "widget"),
        ("toys.example.com", "v1alpha1", "gadget"),
        ("toys.example.com", "v2", "sprocket"),
    ]
    assert toys.get("toys.example.com", "v1beta1", "Widget") is None
    assert toys.scope("toys.example.com", "Gadget") == "Cluster"
    assert toys.scope("toys.example.com", "Widget") == "Namespaced"


def test_valid_widget_passes(toys: CrdSchemas) -> None:
    obj = _widget({"size": 3, "color": "red", "timeout": "1m30s", "nested": {"depth": 2}})
    assert _errors(toys, obj) == []


def test_strict_at_every_level(toys: CrdSchemas) -> None:
    assert _errors(toys, _widget({"size": 1}, extra=1)) == [("", "additionalProperties")]
    assert _errors(toys, _widget({"size": 1, "colour": "red"})) == [
        ("spec", "additionalProperties")
    ]
    nested = _widget({"size": 1, "nested": {"depth": 1, "width": 2}})
    assert _errors(toys, nested) == [("spec.nested", "additionalProperties")]


def test_int_or_string(toys: CrdSchemas) -> None:
    assert _errors(toys, _widget({"size": 5})) == []
    assert _errors(toys, _widget({"size": "50%"})) == []
    assert _errors(toys, _widget({"size": True})) == [("spec.size", "type")]
    assert _errors(toys, _widget({"size": 1.5})) == [("spec.size", "type")]


def test_nullable_and_enum(toys: CrdSchemas) -> None:
    assert _errors(toys, _widget({"size": 1, "color": None})) == []
    assert _errors(toys, _widget({"size": 1, "color": "green"})) == [("spec.color", "enum")]


def test_preserve_unknown_fields(toys: CrdSchemas) -> None:
    anything = {"size": 1, "extra": {"a": [1, {"b": None}], "c": "d"}}
    assert _errors(toys, _widget(anything)) == []
    assert _errors(toys, _widget({"size": 1}, status={"whatever": 1})) == []


def test_boolean_exclusive_minimum_is_converted(toys: CrdSchemas) -> None:
    assert _errors(toys, _widget({"size": 1, "nested": {"depth": 0}})) == [
        ("spec.nested.depth", "exclusiveMinimum")
    ]


def test_required_and_duration_rule(toys: CrdSchemas) -> None:
    assert _errors(toys, _widget({})) == [("spec", "required")]
    assert _errors(toys, _widget({"size": 1, "timeout": "30"})) == [
        ("spec.timeout", "x-kubernetes-validations")
    ]


def test_top_level_header_added_when_crd_omits_it(toys: CrdSchemas) -> None:
    gadget = toys.get("toys.example.com", "v1alpha1", "Gadget")
    assert gadget is not None
    props = gadget.schema["properties"]
    assert {"apiVersion", "kind", "metadata", "spec"} <= set(props)
    assert gadget.schema["additionalProperties"] is False
    assert "additionalProperties" not in props["metadata"]  # ObjectMeta is checked separately


def test_strict_schema_does_not_touch_field_names() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "description": {"type": "string", "description": "a field called description"},
            "items": {"type": "array", "items": {"type": "object", "properties": {"a": {}}}},
        },
    }
    out = strict_schema(schema)
    assert out["properties"]["description"] == {"type": "string"}
    assert out["properties"]["items"]["items"]["additionalProperties"] is False
    assert schema["properties"]["description"]["description"]  # input left unchanged


def test_linter_uses_crd_yaml(tmp_path: Path) -> None:
    manifests = tmp_path / "m.yaml"
    manifests.write_text(
        "apiVersion: toys.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
        "  namespace: toys\n  lables: {}\nspec:\n  size: true\n  timeout: '5'\n"
        "---\napiVersion: toys.example.com/v1alpha1\nkind: Gadget\nmetadata:\n  name: g\n"
        "spec:\n  mode: fast\n"
        "---\napiVersion: toys.example.com/v1beta1\nkind: Widget\nmetadata:\n  name: old\n"
        "  namespace: toys\nspec: {}\n"
    )
    report = Linter(crd_paths=[TOYS]).lint_paths([manifests])
    got = {(f.rule, f.doc_index, f.path, f.line) for f in report.findings}
    assert got == {
        ("SSP103", 0, "metadata.lables", 6),
        ("SSP105", 0, "spec.size", 8),
        ("SSP040", 0, "spec.timeout", 9),
        ("SSP106", 2, "", 18),
    }
    assert [(u.api_version, u.kind, u.name) for u in report.unchecked] == [
        ("toys.example.com/v1beta1", "Widget", "old")
    ]
    # Gadget is cluster-scoped (from the CRD), so no namespace finding for it


def test_shared_catalog_loads_with_top_level_strictness() -> None:
    registry = CrdSchemas.from_paths([shared_crds()])
    assert len(registry) == 16
    for key in registry.gvks():
        schema = registry.get(*key)
        assert schema is not None
        assert schema.schema["additionalProperties"] is False, key
        assert {"apiVersion", "kind", "metadata"} <= set(schema.schema["properties"]), key
    otel = registry.get("opentelemetry.io", "v1beta1", "OpenTelemetryCollector")
    assert otel is not None
    config = otel.schema["properties"]["spec"]["properties"]["config"]
    assert "additionalProperties" not in config  # preserve-unknown-fields wins over the converter


def test_istio_older_versions_use_the_v1_schema() -> None:
    registry = CrdSchemas.from_paths([shared_crds()])
    assert registry.get("networking.istio.io", "v1alpha3", "VirtualService") is registry.get(
        "networking.istio.io", "v1", "VirtualService"
    )


def test_first_loaded_schema_wins(tmp_path: Path) -> None:
    override = tmp_path / "toys.example.com"
    override.mkdir()
    (override / "widget_v1.json").write_text('{"type": "object", "properties": {"spec": {}}}')
    registry = CrdSchemas.from_paths([tmp_path, TOYS])
    schema = registry.get("toys.example.com", "v1", "Widget")
    assert schema is not None and schema.source.endswith("widget_v1.json")


def test_missing_crd_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CrdSchemas.from_paths([tmp_path / "absent"])


def test_default_paths_env_first_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    work = tmp_path / "repo"
    (tmp_path / "shared" / "schemas" / "crds").mkdir(parents=True)
    work.mkdir()
    monkeypatch.setenv(ENV_VAR, os.pathsep.join([str(first), str(tmp_path / "nope"), str(second)]))
    monkeypatch.chdir(work)
    found = default_crd_paths()
    assert found[:3] == [first, second, (tmp_path / "shared" / "schemas" / "crds").resolve()]


def test_default_paths_find_shared_from_source_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir("/")
    shared = (REPO_ROOT / ".." / "shared" / "schemas" / "crds").resolve()
    expected = [shared] if shared.is_dir() else []
    assert default_crd_paths() == [*expected, BUNDLED_CRDS]


def test_bundled_schemas_cover_what_the_generator_writes() -> None:
    # Istio, Argo Rollouts, Kong, prometheus-operator and the OpenTelemetry operator, with the
    # licence of the collection they were converted by.
    kinds = {p.relative_to(BUNDLED_CRDS).as_posix() for p in BUNDLED_CRDS.rglob("*.json")}
    assert {
        "networking.istio.io/virtualservice_v1.json",
        "argoproj.io/rollout_v1alpha1.json",
        "configuration.konghq.com/kongplugin_v1.json",
        "monitoring.coreos.com/servicemonitor_v1.json",
        "opentelemetry.io/opentelemetrycollector_v1beta1.json",
    } <= kinds
    assert (BUNDLED_CRDS / "LICENSE").is_file()
    assert len(CrdSchemas.from_paths([BUNDLED_CRDS])) >= len(kinds)
