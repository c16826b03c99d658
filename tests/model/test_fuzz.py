"""Random and mangled documents: the loader answers with diagnostics, never with a crash."""

from __future__ import annotations

import contextlib
import copy
import re
import tracemalloc
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


# -- aliases, numbers and `--set` (issue 9) ----------------------------------------------------


@st.composite
def alias_documents(draw: st.DrawFn) -> str:
    """Anchors built from earlier anchors (billion-laughs shapes), sometimes from themselves."""
    levels = draw(st.integers(1, 12))
    lines = [f"a0: &a0 [{', '.join(['x'] * draw(st.integers(1, 12)))}]"]
    for i in range(1, levels):
        width = draw(st.integers(1, 12))
        refs = [f"*a{draw(st.integers(0, i - 1))}" for _ in range(width)]
        if draw(st.integers(0, 9)) == 0:
            refs.append(f"*a{i}")  # an alias to the anchor being defined
        flow = draw(st.booleans())
        body = (
            "[" + ", ".join(refs) + "]"
            if flow
            else "{" + ", ".join(f"k{j}: {r}" for j, r in enumerate(refs)) + "}"
        )
        lines.append(f"a{i}: &a{i} {body}")
    merge = draw(st.sampled_from(["", "  <<: *a0\n", "  <<: 5\n", f"  <<: *a{levels - 1}\n"]))
    return "\n".join(lines) + "\nspec:\n" + merge + f"  services: *a{levels - 1}\n"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alias_documents())
def test_alias_structures_are_bounded(text: str) -> None:
    tracemalloc.start()
    try:
        check(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * 1024 * 1024


NUMBER = re.compile(r"\b\d+(\.\d+)?")


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 200),
    st.one_of(
        st.integers(min_value=0, max_value=10**600).map(str),
        st.sampled_from(["1e400", "1.0e+400", ".inf", ".nan", "-.inf", "0", "0.0", "1e-400"]),
        st.floats().map(repr),
    ),
)
def test_any_number_anywhere(which: int, number: str) -> None:
    places = list(NUMBER.finditer(BASE))
    match = places[which % len(places)]
    check(BASE[: match.start()] + number + BASE[match.end() :])


SET_KEYS = st.sampled_from(
    [
        "gateway.replicas",
        "services.user.replicas",
        "services.user.workers",
        "simulation.duration",
        "traffic.apps.arrival.rate",
        "x",
        "services.user.endpoints.get.work",
        "services.*.replicas",
    ]
)
SET_VALUES = st.one_of(
    st.sampled_from(
        ["&a [*a]", "&a [*a, *a]", "9" * 5000, "9" * 400, ".inf", ".nan", "1e400", "<<: 5"]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=20),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SET_KEYS, SET_VALUES)
def test_set_answers_with_catalog_error_only(key: str, value: str) -> None:
    from scalesim_patterns.catalog import new
    from scalesim_patterns.catalog.errors import CatalogError

    try:
        text = new("api-gateway", [f"{key}={value}"])
    except CatalogError as exc:
        assert str(exc) and len(str(exc)) < 5000
    else:
        arch, _ = validate_text(text, "new.yaml")
        assert arch is not None
