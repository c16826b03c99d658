"""Shared helpers of the generator tests: inputs, parsing outputs, finding objects."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from scalesim_patterns.generate import generate, write_secrets, write_tree
from scalesim_patterns.model import Architecture, load

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "src" / "scalesim_patterns" / "catalog" / "templates"
GOLDEN = Path(__file__).resolve().parent / "golden" / "ecommerce"
GOLDEN_INPUT = GOLDEN / "input.yaml"
GOLDEN_OUTPUT = GOLDEN / "output"


def architecture_templates() -> list[Path]:
    """Every catalog template that is an Architecture (the folder also holds an index)."""
    out = []
    for path in sorted(TEMPLATES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("kind") == "Architecture":
            out.append(path)
    return out


def shop() -> Architecture:
    """The e-commerce design as pinned next to its golden output."""
    return load(GOLDEN_INPUT)


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_parsed: dict[str, list[Any]] = {}


def _parse(text: str) -> list[Any]:
    """Parsed documents of one file, cached: tests read the same outputs many times."""
    if text not in _parsed:
        _parsed[text] = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    return _parsed[text]


def documents(files: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """(path, document) for every YAML document of the generated tree (do not mutate them)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path, text in files.items():
        if path.endswith(".yaml"):
            out.extend((path, doc) for doc in _parse(text))
    return out


def find(files: dict[str, str], kind: str, name: str) -> dict[str, Any]:
    matches = [
        doc
        for _, doc in documents(files)
        if doc.get("kind") == kind and doc.get("metadata", {}).get("name") == name
    ]
    assert len(matches) == 1, f"{len(matches)} {kind}/{name}"
    return matches[0]


def of_kind(files: dict[str, str], kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in documents(files) if doc.get("kind") == kind]


def generated_shop() -> dict[str, str]:
    return generate(shop())


def kubectl_kustomize(files: dict[str, str], folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The objects of each overlay (`dev`, `prod`) as the real kustomize (kubectl's) builds them
    from the generated tree written to `folder` with its secrets; every build must succeed.

    What a user's `kubectl apply -k` would get: the tests that check the output against it
    write, build and parse it the same way. Needs kubectl (the callers skip without it)."""
    write_tree(files, folder)
    write_secrets(folder, files)
    built: dict[str, list[dict[str, Any]]] = {}
    for overlay in ("dev", "prod"):
        proc = subprocess.run(
            ["kubectl", "kustomize", str(folder / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        built[overlay] = [d for d in yaml.safe_load_all(proc.stdout) if d]
    return built
