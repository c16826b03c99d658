from __future__ import annotations

import pytest

from scalesim_patterns.model.units import (
    format_duration,
    format_rate,
    parse_cpu,
    parse_duration,
    parse_memory,
    parse_rate,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h30m", 5400.0),
        ("1.5s", 1.5),
        ("500us", 5e-4),
        ("10ns", 1e-8),
    ],
)
def test_durations_parse_to_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", [5, 1.5, "5", "5 sec", "ms", "-1s", True, None, "1d"])
def test_a_duration_without_a_unit_is_rejected_with_the_accepted_forms(bad: object) -> None:
    with pytest.raises(ValueError, match="250ms"):
        parse_duration(bad)


def test_zero_needs_no_unit() -> None:
    assert parse_duration(0) == 0.0


@pytest.mark.parametrize("seconds", [0.0, 0.25, 30.0, 120.0, 5400.0, 0.0015, 1e-5, 90.0])
def test_durations_round_trip(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "per_second"), [("500/s", 500.0), ("3000/min", 50.0), ("36/h", 0.01), ("86400/d", 1.0)]
)
def test_rates(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)
    assert parse_rate(format_rate(per_second)) == pytest.approx(per_second)


@pytest.mark.parametrize("bad", [500, "500", "500/fortnight", "/s", "-5/s"])
def test_bad_rates_show_the_accepted_forms(bad: object) -> None:
    with pytest.raises(ValueError, match="500/s"):
        parse_rate(bad)


def test_cpu_and_memory() -> None:
    assert parse_cpu("500m") == 0.5
    assert parse_cpu(2) == 2.0
    assert parse_memory("256Mi") == 256 * 1024**2
    assert parse_memory("1G") == 1e9
    for bad in ("0m", "-1", "lots", True):
        with pytest.raises(ValueError):
            parse_cpu(bad)
    for bad in ("12Qi", "0Mi", True, -5):
        with pytest.raises(ValueError):
            parse_memory(bad)


def test_the_unit_annotation_builds_what_the_three_pydantic_annotations_built() -> None:
    """Each unit type is one annotation (`units._Unit`) instead of `BeforeValidator(parse)`,
    `PlainSerializer(format, return_type=str)` and `WithJsonSchema(...)`: the same core schema
    (the same functions in the same places), the same JSON Schema in both modes, alone, with a
    bound, in a union with None and in a list."""
    import re
    from typing import Annotated, Any, get_args

    from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema

    from scalesim_patterns.model import units

    def three(unit_type: Any) -> Any:
        unit = get_args(unit_type)[1]
        return Annotated[
            float,
            BeforeValidator(unit.parse),
            PlainSerializer(unit.format, return_type=str),
            WithJsonSchema(unit.json_schema),
        ]

    def model(t: Any) -> type[BaseModel]:
        class M(BaseModel):
            one: t
            bounded: t = Field(1.0, ge=0, le=5)
            maybe: t | None = None
            many: list[t] = []

        return M

    def plain(schema: Any) -> Any:
        """The schema with each JSON Schema hook (whose object differs) as a placeholder."""
        if isinstance(schema, dict):
            return {k: plain(v) for k, v in schema.items()}
        if isinstance(schema, list):
            return [plain(v) for v in schema]
        if getattr(schema, "__name__", None) == "__get_pydantic_json_schema__":
            return "json schema hook"
        return schema

    for unit_type in (units.Duration, units.Rate, units.Cpu, units.Memory):
        ours, theirs = model(unit_type), model(three(unit_type))
        core = re.sub(r"\.M:\d+", ".M", repr(plain(ours.__pydantic_core_schema__)))
        assert core == re.sub(r"\.M:\d+", ".M", repr(plain(theirs.__pydantic_core_schema__)))
        assert "json schema hook" in core and "serialization" in core
        for mode in ("validation", "serialization"):
            assert ours.model_json_schema(mode=mode) == theirs.model_json_schema(mode=mode)  # type: ignore[arg-type]
        value = ours.model_validate({"one": 2, "maybe": 3, "many": [4]})
        assert value.model_dump() == theirs.model_validate(value.model_dump()).model_dump()
