"""Fixtures shared by the tests that run the generated services' runtime in-process."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from scalesim_patterns.generate.code.files import RUNTIME_FILES, template

RuntimeLoader = Callable[[str], ModuleType]
"""Imports one module of the written-out runtime by its name under `app.runtime` (`server`)."""


@pytest.fixture(scope="module")
def generated_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeLoader]:
    """The `app/` package every generated service ships, written out and importable.

    The runtime is kept as text templates, so it is tested the way a service runs it: written to
    disk and imported. Each test module gets its own copy, and `sys.path` and `sys.modules` are
    put back afterwards so that one module's `app` never leaks into another's."""
    root = tmp_path_factory.mktemp("svc")
    for rel, src in RUNTIME_FILES:
        if rel.startswith("app/"):
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(template(src), encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        yield lambda name: importlib.import_module(f"app.runtime.{name}")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
            del sys.modules[name]
