"""Caches in the file (model/caches.py): misuse refused with its field, references checked."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.checks import check_architecture


def _arch(caches: dict[str, Any], steps: list[Any], **spec: Any) -> Architecture:
    return Architecture.model_validate(
        {
            "metadata": {"name": "t"},
            "spec": {
                "services": {
                    "s": {"endpoints": {"e": {"work": "1ms", "steps": steps}}},
                    "o": {"endpoints": {"e": {"work": "1ms"}}},
                },
                "databases": {"d": {"engine": "postgresql", "owner": "s"}},
                "caches": caches,
                "traffic": {
                    "t": {
                        "arrival": {"process": "poisson", "rate": "1/s"},
                        "mix": [{"endpoint": "s.e"}],
                    }
                },
                **spec,
            },
        }
    )


STEP = [{"cache": "c", "miss": [{"query": "d"}]}]


@pytest.mark.parametrize(
    ("cache", "words"),
    [
        ({"owner": "s"}, "a cache needs `hitRatio`"),
        ({"owner": "s", "hitRatio": 0.9, "capacity": 10}, "either `hitRatio` or"),
        ({"owner": "s", "popularity": {"keys": 10}}, "give `capacity` (LRU) and/or `ttl`"),
        ({"owner": "s", "hitRatio": 1.5}, "less than or equal to 1"),
        ({"owner": "s", "engine": "hazelcast", "hitRatio": 0.5}, "'redis' or 'memcached'"),
        (
            {"owner": "s", "popularity": {"keys": 10**8}, "capacity": 5},
            "less than or equal to 1000000",
        ),
    ],
)
def test_bad_caches_are_refused(cache: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as info:
        _arch({"c": cache}, STEP)
    assert words in str(info.value)


def _found(arch: Architecture) -> list[tuple[str, tuple[Any, ...], str]]:
    return [(str(sev), path, msg) for sev, path, msg in check_architecture(arch)]


def test_a_clean_cache_has_no_findings() -> None:
    assert _found(_arch({"c": {"owner": "s", "hitRatio": 0.9}}, STEP)) == []


def test_references_and_shape() -> None:
    [(sev, path, msg)] = _found(
        _arch({"c": {"owner": "s", "hitRatio": 0.9}}, [{"cache": "x", "miss": [{"query": "d"}]}])
    )
    assert sev == "error" and path[-1] == "cache" and "unknown cache 'x'" in msg
    [(sev, path, msg)] = _found(_arch({"c": {"owner": "nobody", "hitRatio": 0.9}}, STEP))
    assert sev == "error" and path == ("spec", "caches", "c", "owner")
    nested = [{"cache": "c", "miss": [{"cache": "c", "miss": [{"query": "d"}]}]}]
    found = _found(_arch({"c": {"owner": "s", "hitRatio": 0.9}}, nested))
    assert (
        "error",
        ("spec", "services", "s", "endpoints", "e", "steps", 0, "miss"),
        "a cache step's `miss` cannot look up another cache",
    ) in found
    [(sev, path, msg)] = _found(_arch({"c": {"owner": "s", "hitRatio": 0.9}}, [{"cache": "c"}]))
    assert sev == "warning" and "without `miss` steps" in msg


def test_cache_faults_are_outage_or_latency() -> None:
    arch = _arch(
        {"c": {"owner": "s", "hitRatio": 0.9}},
        STEP,
        scenarios={"x": {"faults": [{"type": "errors", "target": "c", "rate": 0.5}]}},
    )
    [(sev, path, msg)] = _found(arch)
    assert (
        sev == "error" and path[-1] == "type" and "a cache takes outage and latency faults" in msg
    )
