"""The e-commerce output is pinned file by file; generation is deterministic.

Regenerate the golden tree after an intended change (this also refreshes the pinned input from the
catalog's ecommerce template):

    SCALESIM_UPDATE_GOLDEN=1 .venv/bin/pytest tests/generate/test_golden.py

then review `git diff tests/generate/golden/`.
"""

from __future__ import annotations

import os
import random
import shutil

import pytest

from scalesim_patterns.generate import generate
from scalesim_patterns.model import Architecture

from .helpers import GOLDEN_INPUT, GOLDEN_OUTPUT, TEMPLATES, generated_shop, shop
from .synthetic import synthetic_architecture

UPDATE = os.environ.get("SCALESIM_UPDATE_GOLDEN") == "1"


def _manifests() -> dict[str, str]:
    """The generated tree without `services/` (service code is pinned in tests/generate/code/)."""
    return {k: v for k, v in generated_shop().items() if not k.startswith("services/")}


def _tree(root: os.PathLike[str]) -> dict[str, str]:
    base = str(root)
    out = {}
    for folder, _, names in os.walk(base):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8", newline="") as fh:
                out[os.path.relpath(path, base).replace(os.sep, "/")] = fh.read()
    return out


def test_golden_ecommerce() -> None:
    if UPDATE:
        shutil.copyfile(TEMPLATES / "ecommerce.yaml", GOLDEN_INPUT)
        shutil.rmtree(GOLDEN_OUTPUT, ignore_errors=True)
        for rel, text in _manifests().items():
            target = GOLDEN_OUTPUT / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="")
        pytest.skip("golden files rewritten; review the diff")
    expected = _tree(GOLDEN_OUTPUT)
    actual = _manifests()
    assert sorted(actual) == sorted(expected), "the set of generated files changed"
    for rel in sorted(expected):
        assert actual[rel] == expected[rel], f"{rel} differs from the golden file"


def _shuffled(arch: Architecture, seed: int) -> Architecture:
    """The same design with every name-keyed mapping in another insertion order."""
    data = arch.model_dump(mode="json", by_alias=True, exclude_unset=True)
    rng = random.Random(seed)
    spec = data["spec"]
    for key in ("services", "databases", "brokers", "eventStores", "sagas", "traffic"):
        if key in spec:
            items = list(spec[key].items())
            rng.shuffle(items)
            spec[key] = dict(items)
    for svc in spec["services"].values():
        items = list(svc["endpoints"].items())
        rng.shuffle(items)
        svc["endpoints"] = dict(items)
    return Architecture.model_validate({"apiVersion": arch.api_version, "kind": arch.kind, **data})


def test_generate_twice_gives_identical_bytes() -> None:
    arch = shop()
    assert generate(arch) == generate(arch)


@pytest.mark.parametrize("seed", [1, 2])
def test_output_does_not_depend_on_mapping_order(seed: int) -> None:
    arch = synthetic_architecture(14)
    assert generate(_shuffled(arch, seed)) == generate(arch)
    assert generate(_shuffled(shop(), seed)) == generate(shop())
