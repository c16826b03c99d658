"""Random and mangled documents: the loader answers with diagnostics, never with a crash."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalesim_patterns.model import ArchitectureError, Severity, loads, validate_text

from .test_loader import BASE

BASE_DATA = yaml.safe_load(BASE)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["5ms", "1/s", "-1s", "p50", "exponential", "call", "0", "1e400", "nan", "~"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def check(text: str) -> None:
    arch, diags = validate_text(text, "fuzz.yaml")
    if arch is None:
        assert any(d.severity is Severity.ERROR for d in diags)
    for d in diags:
        assert d.line >= 1 and d.column >= 1 and d.message
    with contextlib.suppress(ArchitectureError):
        loads(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    check(text)


@settings(max_examples=150, deadline=None)
@given(values)
def test_arbitrary_structures(data: Any) -> None:
    check(yaml.safe_dump(data))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = [p for p in _paths(BASE_DATA) if p]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), values, st.booleans()), min_size=1, max_size=4))
def test_mangled_architectures(edits: list[tuple[tuple[Any, ...], Any, bool]]) -> None:
    data = copy.deepcopy(BASE_DATA)
    for path, value, delete in edits:
        node = data
        try:
            for part in path[:-1]:
                node = node[part]
            if delete:
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    check(yaml.safe_dump(data))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(BASE) - 1), st.integers(1, 20), st.text(max_size=5))
def test_mangled_text(start: int, length: int, insert: str) -> None:
    check(BASE[:start] + insert + BASE[start + length :])
