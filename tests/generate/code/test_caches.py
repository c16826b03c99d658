"""The generated cache-aside client, run for real against the machine's Redis and PostgreSQL.

Figures are computed independently of the runtime: the number of distinct keys a Zipf draw of N
lookups touches (E = Σᵢ 1 − (1 − pᵢ)^N), the binomial spread of a fixed hit ratio, rows the miss
path writes to PostgreSQL, keys and TTLs read back from Redis itself. There is no memcached server
on this machine: the memcached path is checked only as far as that allows (its client is built,
its keys and expiry are what memcached accepts, its requirement is listed); no server is faked.
"""

from __future__ import annotations

import asyncio
import math
import socket
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from scalesim_patterns.generate.code import service_spec
from scalesim_patterns.generate.code.files import (
    MEMCACHED_REQUIREMENT,
    service_code_files,
)
from scalesim_patterns.model import loads

REDIS = ("127.0.0.1", 6379)


@pytest.fixture(scope="module")
def runtime(generated_runtime: Callable[[str], ModuleType]) -> dict[str, ModuleType]:
    return {"server": generated_runtime("server"), "caches": generated_runtime("caches")}


def _design(cache: str, name: str, operation: str = "write", engine: str = "redis") -> Any:
    return loads(
        "apiVersion: scalesim.dev/v1alpha1\nkind: Architecture\n"
        f"metadata: {{name: {name}}}\nspec:\n"
        "  services:\n    product:\n      workers: 8\n      endpoints:\n"
        "        get:\n          work: 0s\n          steps:\n"
        "            - cache: pc\n"
        f"              miss: [{{query: pdb, operation: {operation}}}]\n"
        f"  caches:\n    pc: {{engine: {engine}, owner: product, {cache}}}\n"
        "  databases:\n    pdb: {engine: postgresql, owner: product}\n"
        "  traffic:\n    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: product.get}]}\n"
    )


def _redis() -> Any:
    import redis

    return redis.Redis(*REDIS)


def _pg_rows(table: str) -> int:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        assert row is not None
        return int(row[0])


def _drop(table: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')


class Run:
    """One generated service built from `design`, its cache on a prefix of its own."""

    def __init__(
        self, runtime: dict[str, ModuleType], design: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.spec = service_spec(design, "product")
        self.prefix = f"lgtest:{uuid.uuid4().hex}:"
        monkeypatch.setenv("PC_PREFIX", self.prefix)
        monkeypatch.setenv("SCALESIM_SEED", "11")
        monkeypatch.setenv("SCALESIM_WORK", "sleep")
        self.service = runtime["server"].Service(self.spec)
        self.table = self.spec["databases"]["pdb"]["table"]

    def lookups(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for metric in self.service.metrics.cache_lookups.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    out[sample.labels["outcome"]] = sample.value
        return out

    async def serve(self, n: int, pause: float = 0.0) -> None:
        endpoint = self.spec["endpoints"]["get"]
        for _ in range(n):
            await self.service.serve(endpoint, {})
            if pause:
                await asyncio.sleep(pause)

    def keys(self) -> list[bytes]:
        return list(_redis().scan_iter(match=self.prefix + "*", count=1000))

    def clean(self) -> None:
        keys = self.keys()
        if keys:
            _redis().delete(*keys)
        _drop(self.table)


def _run(runtime: dict[str, ModuleType], run: Run, body: Any) -> None:
    async def main() -> None:
        await run.service.connect()
        try:
            await body()
        finally:
            await run.service.close()

    try:
        asyncio.run(main())
    finally:
        run.clean()


def test_zipf_lookups_hit_as_often_as_the_distinct_keys_allow(
    runtime: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Capacity far above the key space: nothing is evicted, so exactly the first lookup of each
    # key misses; E[distinct] = Σ 1 − (1 − pᵢ)^N under Zipf(200, 0.9).
    design = _design("popularity: {keys: 200, exponent: 0.9}, capacity: 100000", "lgzipf")
    run = Run(runtime, design, monkeypatch)
    n = 1500
    weights = [k**-0.9 for k in range(1, 201)]
    total = math.fsum(weights)
    expected_distinct = math.fsum(1 - (1 - w / total) ** n for w in weights)
    seen: dict[str, Any] = {}

    async def body() -> None:
        await run.serve(n)
        seen["lookups"] = run.lookups()
        seen["rows"] = _pg_rows(run.table)
        seen["keys"] = len(run.keys())

    _run(runtime, run, body)
    lookups = seen["lookups"]
    assert lookups.get("error", 0) == 0
    assert lookups["hit"] + lookups["miss"] == n
    # every miss read (here: wrote) the backing store once and filled one key
    assert seen["rows"] == lookups["miss"] == seen["keys"]
    assert abs(lookups["miss"] - expected_distinct) <= 4 * math.sqrt(expected_distinct)


def test_a_fixed_hit_ratio_is_made_real_within_binomial_bounds(
    runtime: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    design = _design("hitRatio: 0.75", "lgfixed")
    run = Run(runtime, design, monkeypatch)
    n, h, hot = 2000, 0.75, run.spec["caches"]["pc"]["keys"]["hot_keys"]
    seen: dict[str, Any] = {}

    async def body() -> None:
        await run.serve(n)
        seen["lookups"] = run.lookups()
        seen["rows"] = _pg_rows(run.table)

    _run(runtime, run, body)
    hits = seen["lookups"]["hit"]
    sigma = math.sqrt(n * h * (1 - h))
    # each of the `hot` recurring keys misses once before it hits
    assert n * h - hot - 4 * sigma <= hits <= n * h + 4 * sigma
    assert seen["rows"] == n - hits


def test_the_ttl_is_honoured_and_an_expired_key_reads_the_store_again(
    runtime: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One key: miss (fill), hit, hit; after the 400 ms TTL it has expired: miss again.
    design = _design("popularity: {keys: 1}, ttl: 400ms", "lgttl")
    run = Run(runtime, design, monkeypatch)
    seen: dict[str, Any] = {}

    async def body() -> None:
        await run.serve(3)
        (key,) = run.keys()
        seen["pttl"] = _redis().pttl(key)
        seen["before"] = run.lookups()
        await asyncio.sleep(0.6)
        seen["gone"] = run.keys()
        await run.serve(1)
        seen["after"] = run.lookups()
        seen["rows"] = _pg_rows(run.table)

    _run(runtime, run, body)
    assert 0 < seen["pttl"] <= 400
    assert seen["before"] == {"hit": 2.0, "miss": 1.0}
    assert seen["gone"] == []
    assert seen["after"] == {"hit": 2.0, "miss": 2.0}
    assert seen["rows"] == 2


def test_a_whole_second_ttl_is_set_as_is(
    runtime: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    design = _design("popularity: {keys: 1}, ttl: 2s", "lgttl2")
    run = Run(runtime, design, monkeypatch)
    seen: dict[str, Any] = {}

    async def body() -> None:
        await run.serve(1)
        (key,) = run.keys()
        seen["pttl"] = _redis().pttl(key)

    _run(runtime, run, body)
    assert 1500 < seen["pttl"] <= 2000


def test_an_unreachable_cache_sends_every_lookup_to_the_store(
    runtime: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("PC_PORT", str(closed))
    design = _design("hitRatio: 0.9", "lgdown")
    run = Run(runtime, design, monkeypatch)
    seen: dict[str, Any] = {}

    async def body() -> None:
        seen["ready"] = await run.service.ready()
        await run.serve(20)
        seen["lookups"] = run.lookups()
        seen["rows"] = _pg_rows(run.table)

    _run(runtime, run, body)
    assert seen["ready"] is None  # the service serves without its cache
    assert seen["lookups"] == {"error": 20.0}
    assert seen["rows"] == 20


def test_hits_and_misses_are_on_metrics(
    runtime: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus_client import generate_latest

    design = _design("popularity: {keys: 1}, capacity: 10", "lgmetrics")
    run = Run(runtime, design, monkeypatch)
    seen: dict[str, Any] = {}

    async def body() -> None:
        await run.serve(4)
        seen["text"] = generate_latest(run.service.metrics.registry).decode()

    _run(runtime, run, body)
    assert 'scalesim_cache_lookups_total{cache="pc",outcome="hit"} 3.0' in seen["text"]
    assert 'scalesim_cache_lookups_total{cache="pc",outcome="miss"} 1.0' in seen["text"]


def test_zipf_keys_follow_the_designs_popularity(runtime: dict[str, ModuleType]) -> None:
    import random

    keys = runtime["caches"].Keys({"kind": "zipf", "keys": 200, "exponent": 0.7})
    rng = random.Random(3)
    n = 40_000
    draws = [int(keys.draw(rng)) for _ in range(n)]
    total = math.fsum(k**-0.7 for k in range(1, 201))
    for rank in (1, 2, 10, 50, 200):
        p = rank**-0.7 / total
        observed = draws.count(rank)
        assert abs(observed - n * p) <= 4 * math.sqrt(n * p * (1 - p)), rank
    tail = math.fsum(k**-0.7 for k in range(151, 201)) / total  # ranks 151..200
    observed = sum(1 for d in draws if d > 150)
    assert abs(observed - n * tail) <= 4 * math.sqrt(n * tail * (1 - tail))
    assert min(draws) == 1 and max(draws) == 200


def test_memcached_client_is_built_without_a_server(
    runtime: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what can be checked without a memcached server (none here, and none faked)."""
    import aiomcache

    design = _design("popularity: {keys: 10}, ttl: 1500ms", "lgmemc", engine="memcached")
    spec = service_spec(design, "product")
    cache = runtime["caches"].Cache("pc", spec["caches"]["pc"], 8)
    asyncio.run(cache.start())
    assert isinstance(cache._client, aiomcache.Client)
    assert cache.port == 11211
    key = cache.key(__import__("random").Random(1))
    # memcached's text protocol: keys up to 250 bytes, no spaces or control characters
    assert len(key.encode()) <= 250 and not any(c.isspace() or ord(c) < 32 for c in key)
    asyncio.run(cache.stop())
    files = service_code_files(design, ["product"])
    assert MEMCACHED_REQUIREMENT in files["services/product/requirements.txt"].splitlines()
    redis_files = service_code_files(_design("hitRatio: 0.5", "lgr"), ["product"])
    assert MEMCACHED_REQUIREMENT not in redis_files["services/product/requirements.txt"]
