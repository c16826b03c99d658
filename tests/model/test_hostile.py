"""Hostile architecture files: each class of issue 9 that reaches the model, fed many variants.

Every input must end in diagnostics (ArchitectureError from `load`), never another exception,
within bounded memory: the bound is checked with tracemalloc's peak, not with a clock.
"""

from __future__ import annotations

import os
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalesim_patterns.model import (
    ArchitectureError,
    InputLimits,
    Severity,
    load,
    loads,
    validate,
    validate_text,
)
from scalesim_patterns.model.yamlbounds import (
    YamlLimitError,
    check_text,
    printable,
    safe_load_value,
)

from .test_loader import BASE

MB = 1024 * 1024


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak Python allocation while `fn` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def error_messages(text: str, limits: InputLimits | None = None) -> list[str]:
    kwargs = {"limits": limits} if limits is not None else {}
    _, diags = validate_text(text, "x.yaml", **kwargs)
    errors = [d.message for d in diags if d.severity is Severity.ERROR]
    assert errors
    return errors


# -- unbounded expansion ---------------------------------------------------------------------


def laughs(levels: int, width: int) -> str:
    text = "a0: &a0 [" + ", ".join(["lol"] * width) + "]\n"
    for i in range(1, levels):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]\n"
    return text


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a, *a]\n",
        "a: &a [*a]\n",
        "a: &a {b: *a}\n",
        "a: &a [[[*a]]]\n",
        "x: &x\n  y: &y [*x, *y]\n",
    ],
)
def test_recursive_aliases_are_refused(text: str) -> None:
    messages = error_messages(text)
    assert any("refers to the collection it is inside of" in m for m in messages)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=6, max_value=40), st.integers(min_value=8, max_value=12))
def test_billion_laughs_are_refused_within_the_alias_budget(levels: int, width: int) -> None:
    text = laughs(levels, width)  # width**levels nodes once expanded: 8^6 is already 262 144
    messages: list[str] = []
    peak = peak_bytes(lambda: messages.extend(error_messages(text)))
    assert any("aliases expand to more than 100,000 nodes" in m for m in messages)
    assert peak < 50 * MB


def test_aliases_under_the_budget_still_work() -> None:
    check_text("x: &p {readiness: {path: /ready}}\na: *p\nb: *p\n")  # small aliases pass


def test_the_alias_budget_is_the_one_given() -> None:
    text = laughs(3, 5)  # 5 + 25 + 125 nodes
    check_text(text, InputLimits(max_alias_nodes=1000))
    with pytest.raises(YamlLimitError, match="more than 20 nodes"):
        check_text(text, InputLimits(max_alias_nodes=20))
    check_text(laughs(12, 10), InputLimits(max_alias_nodes=None))  # lifted: counted, not built


def test_alias_count_is_linear_and_exact() -> None:
    """An independent count: each level of k aliases of the previous level of n nodes."""
    text = "a: &a [1, 2, 3]\nb: &b [*a, *a]\nc: [*b, *b, *b]\n"
    # *a twice inside b: 2*4 nodes; *b three times: 3*(1+8) = 27; 8 + 27 = 35
    check_text(text, InputLimits(max_alias_nodes=35))
    with pytest.raises(YamlLimitError):
        check_text(text, InputLimits(max_alias_nodes=34))


@pytest.mark.parametrize("depth", [201, 5000, 100_000])
def test_deep_nesting_is_refused_before_building(depth: int) -> None:
    flow = error_messages("a: " + "[" * depth + "]" * depth + "\n")
    # libyaml stops flow nesting at 1000 levels itself; block nesting has no such stop.
    assert any("nested more than 200" in m or "maximum nesting depth" in m for m in flow)
    block = "".join("  " * i + "-\n" for i in range(300)) + "  " * 300 + "x\n"
    assert any("nested more than 200 levels deep" in m for m in error_messages(block))


def test_input_size_is_capped(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (9 * MB) + "\n")
    arch, diags = validate(big)
    assert arch is None
    assert "larger than 8 MiB" in diags[0].message
    arch, diags = validate(big, limits=InputLimits(max_bytes=16 * MB))
    assert "larger than" not in " ".join(d.message for d in diags)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
def test_dev_zero_is_refused_after_reading_the_cap() -> None:
    diags: list[Any] = []
    peak = peak_bytes(lambda: diags.extend(validate("/dev/zero")[1]))
    assert "larger than 8 MiB" in diags[0].message
    assert peak < 40 * MB
    with pytest.raises(ArchitectureError):
        load("/dev/zero")


# -- numbers ---------------------------------------------------------------------------------

NUMERIC_PLACES = [
    ("rate: 50/s", "rate: {n}/s"),
    ("rate: 50/s", "rate: {n}"),
    ("work: 2ms", "work: {n}ms"),
    ("timeout: 200ms", "timeout: {n}s"),
    ("replicas: 2", "replicas: {n}"),
    ("workers: 4", "workers: {n}"),
    ("- endpoint: front.home", "- {{endpoint: front.home, weight: {n}}}"),
    ("replicas: 2", "replicas: 2\n          resources: {{cpu: {n}, memory: 256Mi}}"),
    ("replicas: 2", "replicas: 2\n          resources: {{cpu: 1, memory: {n}Gi}}"),
]
HUGE = [
    "9" * 309,
    "9" * 400,
    "9" * 5000,
    "1.0e+400",
    "1e17",
    ".inf",
    "-.inf",
    ".nan",
    ".NaN",
    "-0",
    "0",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(NUMERIC_PLACES),
    st.one_of(
        st.sampled_from(HUGE),
        st.integers(min_value=10**15, max_value=10**400).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(lambda f: f"{f!r}"),
    ),
)
def test_absurd_numbers_give_diagnostics_not_exceptions(place: tuple[str, str], n: str) -> None:
    old, new = place
    text = BASE.replace(old, new.format(n=n), 1)
    arch, diags = validate_text(text, "x.yaml")
    for d in diags:
        assert len(str(d)) < 2000  # a 5000-digit number is not echoed whole
    if arch is not None:  # accepted: then it is a finite, in-range model
        dumped = arch.model_dump(mode="python")
        assert "nan" not in repr(dumped) and "inf" not in repr(dumped)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("rate: 50/s", "rate: " + "9" * 309, "a huge number"),
        ("timeout: 200ms", "timeout: " + "9" * 400 + "s", "too large for a duration"),
        (
            "work: {type: exponential, mean: 5ms}",
            "work: {type: hyperexponential, mean: 5ms, scv: 1e17}",
            "less than or equal to 10000",
        ),
        ("replicas: 2", "replicas: 2\n      resources: {cpu: .nan}", "at most 1024 cores"),
        ("replicas: 2", "replicas: 2\n      resources: {cpu: 1e300}", "CPU"),
        ("replicas: 2", "replicas: 2\n      resources: {memory: 999999Ti}", "at most 64Ti"),
        ("- endpoint: front.home", "- {endpoint: front.home, weight: .inf}", "finite number"),
        ("replicas: 2", "replicas: " + "9" * 40, "at most 2^53"),
        ("rate: 50/s", "{process: constant, rate: 0/s}", "greater than 0"),
    ],
)
def test_issue_examples_of_numbers(old: str, new: str, expected: str) -> None:
    if "constant" in new:
        text = BASE.replace("arrival: {process: poisson, rate: 50/s}", "arrival: " + new)
    else:
        text = BASE.replace(old, new, 1)
    messages = error_messages(text)
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize(
    ("key", "path", "sign"),
    [
        ("count: ", "spec.services.order.deployment.canary.steps[2].analysis.count", ""),
        ("pool: ", "spec.databases.users-db.pool", ""),
        ("partitions: ", "spec.brokers.events.topics.order-placed.partitions", ""),
        ("consecutive5xxErrors: ", "spec.mesh.outlierDetection.consecutive5xxErrors", ""),
        ("seed: ", "spec.simulation.seed", ""),
        ("seed: ", "spec.simulation.seed", "-"),  # the one without a lower bound
    ],
)
def test_whole_numbers_beyond_2_53_anywhere_point_at_their_field(
    key: str, path: str, sign: str
) -> None:
    """The bound holds in every int field at any depth (one validator on the `Spec` base), the
    error at its key's line and column, with its path; 2^53 itself is taken."""
    from scalesim_patterns.catalog import template

    text = template("ecommerce").path.read_text(encoding="utf-8")
    start = text.index(key) + len(key)
    end = start + len(re.match(r"\d+", text[start:]).group())  # type: ignore[union-attr]
    line = text.count("\n", 0, start) + 1
    column = start - len(key) - text.rfind("\n", 0, start)  # where the key is
    message = "whole numbers must be at most 2^53 (9007199254740992)"

    _, diags = validate_text(text[:start] + sign + str(2**53 + 1) + text[end:], "x.yaml")
    assert f"x.yaml:{line}:{column}: error: {path}: {message}" in [str(d) for d in diags]
    _, diags = validate_text(text[:start] + sign + str(2**53) + text[end:], "x.yaml")
    assert not any(message in str(d) for d in diags), diags


def _may_hold_an_int(annotation: Any, metadata: tuple[Any, ...] = ()) -> bool:
    """Whether a field so annotated can end its validation with an `int` as its value (what
    `Spec._bounded_int` checks): an `int`, alone or in a union, `Any`, a literal whole number,
    or whatever a plain or wrap validator returns. A float field turns an int into a float."""
    import enum
    import types
    import typing

    from pydantic import BaseModel, PlainValidator, WrapValidator

    if any(isinstance(m, PlainValidator | WrapValidator) for m in metadata):
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _may_hold_an_int(args[0], (*annotation.__metadata__, *metadata))
    if origin in (typing.Union, types.UnionType):
        return any(_may_hold_an_int(a) for a in args)
    if origin is typing.Literal:
        return any(type(a) is int for a in args)
    if origin in (list, dict, tuple, set, frozenset):
        return False  # the container is the value; its items are not checked, as before
    if annotation in (float, str, bool, type(None)):
        return False
    # True for int, Any, a type variable, an unresolved name, anything not known here
    return not (isinstance(annotation, type) and issubclass(annotation, BaseModel | enum.Enum))


def _model_classes() -> list[type[Any]]:
    from scalesim_patterns.model.base import Spec

    found: list[type[Any]] = []
    todo: list[type[Any]] = [Spec]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def test_the_2_53_bound_covers_every_field_that_can_hold_a_whole_number() -> None:
    """`Spec._bounded_int` is applied by name (base.WHOLE_NUMBER_FIELDS), not to all fields:
    this fails when a field that can hold an int is added without its name in the list, or when
    a name in the list no longer names such a field."""
    from scalesim_patterns.model.base import WHOLE_NUMBER_FIELDS

    classes = _model_classes()
    assert len(classes) > 100
    needed: dict[str, list[str]] = {}
    for cls in classes:
        for name, info in cls.__pydantic_fields__.items():
            if _may_hold_an_int(info.annotation, tuple(info.metadata)):
                needed.setdefault(name, []).append(f"{cls.__name__}.{name}")
    missing = {n: where for n, where in needed.items() if n not in WHOLE_NUMBER_FIELDS}
    assert not missing, f"add to base.WHOLE_NUMBER_FIELDS: {missing}"
    assert set(WHOLE_NUMBER_FIELDS) == set(needed), set(WHOLE_NUMBER_FIELDS) - set(needed)
    assert len(set(WHOLE_NUMBER_FIELDS)) == len(WHOLE_NUMBER_FIELDS)
    for cls in classes:
        validators = cls.__pydantic_decorators__.field_validators
        bound = validators["_bounded_int"].info.fields
        for name, info in cls.__pydantic_fields__.items():
            if _may_hold_an_int(info.annotation, tuple(info.metadata)):
                assert name in bound, f"{cls.__name__}.{name}"


def test_the_field_checks_see_an_int_as_a_float_in_float_fields() -> None:
    """Why a float field needs no bound: its value is a float after validation, whatever the
    number written (the check only looks at values whose type is `int`)."""
    from scalesim_patterns.model.distributions import Phase

    assert type(Phase.model_validate({"probability": 1, "mean": 0}).probability) is float


def test_merge_of_a_scalar_is_an_error_not_dropped() -> None:
    for value in ("5", "text", "[1, 2]", "~"):
        text = BASE.replace("      replicas: 2\n", f"      <<: {value}\n      replicas: 2\n", 1)
        messages = error_messages(text)
        assert any("'<<' merges mappings" in m for m in messages), (value, messages)


def test_merge_of_an_alias_still_works() -> None:
    text = BASE.replace(
        "    front:\n      replicas: 2\n      workers: 4\n",
        "    front:\n      <<: &sizes {replicas: 2, workers: 4}\n",
    )
    arch, diags = validate_text(text, "x.yaml")
    assert arch is not None, diags
    assert arch.spec.services["front"].workers == 4


# -- text reaching a terminal ----------------------------------------------------------------

CONTROL = [chr(c) for c in [*range(0, 9), *range(11, 32), 127, *range(0x80, 0xA0), 0x202E]]


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from([*CONTROL, "a", "b", "["]), min_size=1, max_size=12))
def test_control_characters_in_keys_are_escaped_in_messages(key: str) -> None:
    quoted = key.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    text = BASE.replace("      workers: 4\n", f'      "{quoted}": 4\n', 1)
    _, diags = validate_text(text, "x.yaml")
    for d in diags:
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", str(d)), str(d)


def test_printable_shows_escape_sequences() -> None:
    assert printable("\x1b[2Jred") == "\\x1b[2Jred"
    assert printable("plain text, ünïcode") == "plain text, ünïcode"


# -- the model's own walks -------------------------------------------------------------------


def chain(n: int, fan: int = 1) -> str:
    services = ""
    for i in range(n):
        steps = (
            "".join(f"\n            - call: s{i + 1}.e" for _ in range(fan)) if i < n - 1 else ""
        )
        steps = f"\n          steps:{steps}" if steps else ""
        services += f"    s{i}:\n      endpoints:\n        e:\n          work: 1ms{steps}\n"
    return (
        "apiVersion: scalesim.dev/v1alpha1\nkind: Architecture\nmetadata: {name: chain}\n"
        f"spec:\n  services:\n{services}"
        "  traffic:\n    users:\n      arrival: {process: poisson, rate: 1/s}\n"
        "      mix: [{endpoint: s0.e}]\n"
    )


def test_a_call_chain_of_990_services_is_checked_without_recursion_error() -> None:
    arch, diags = validate_text(chain(990), "chain.yaml")
    assert arch is not None, diags[:3]


def test_a_cycle_at_the_end_of_a_long_chain_is_still_found() -> None:
    text = chain(990).replace(
        "work: 1ms\n  traffic", "work: 1ms\n          steps: [{call: s0.e}]\n  traffic"
    )
    messages = error_messages(text)
    assert any("synchronous call cycle" in m for m in messages)


def test_fan_out_is_linear_not_exponential() -> None:
    """40 services each calling the next twice: 2^40 paths, 40 endpoints."""
    arch, diags = validate_text(chain(40, fan=2), "fan.yaml")
    assert arch is not None
    warnings = [d.message for d in diags if d.severity is Severity.WARNING]
    # s39 receives 2^39 calls per request: far beyond its 8 workers, and said so.
    assert any("s39" in str(d.path) for d in diags if d.severity is Severity.WARNING), warnings


def test_a_service_consuming_its_own_topic_warns() -> None:
    text = BASE.replace(
        "consumers: [{service: listener, endpoint: on-changed}]",
        "consumers: [{service: back, endpoint: get}]",
    )
    _, diags = validate_text(text, "x.yaml")
    assert any("consumes topic 'changed' that it publishes to" in d.message for d in diags)
    _, clean = validate_text(BASE, "x.yaml")
    assert not any("consumes topic" in d.message for d in clean)


# -- load(): ArchitectureError and nothing else ----------------------------------------------


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_load_raises_only_architecture_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.yaml"
    path.write_bytes(data)
    try:
        load(path)
    except ArchitectureError as exc:
        assert exc.diagnostics
    with pytest.raises(ArchitectureError):
        load(tmp_path / "missing.yaml")
    with pytest.raises(ArchitectureError):
        load(tmp_path)  # a folder


def test_loads_of_the_issue_examples_raise_architecture_error() -> None:
    for text in ("a: &a [*a, *a]\n", laughs(9, 9), "\xff\xfe", "<<: 5\n", "[" * 10_000):
        with pytest.raises(ArchitectureError):
            loads(text)


# -- --set values ----------------------------------------------------------------------------


def flow_laughs(levels: int, width: int) -> str:
    items = ["&a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        items.append(f"&a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "[" + ", ".join(items) + "]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("&a [*a]", "refers to the collection it is inside of"),
        ("&a [*a, *a]", "refers to the collection it is inside of"),
        ("9" * 5000, "too long to read"),
        (flow_laughs(9, 9), "aliases expand to more than"),
    ],
)
def test_set_values_are_bounded(value: str, expected: str) -> None:
    with pytest.raises(YamlLimitError, match=expected):
        safe_load_value(value)


def test_small_set_values_load() -> None:
    assert safe_load_value("[1, {a: b}]") == [1, {"a": "b"}]
    assert safe_load_value("9" * 400) == int("9" * 400)
