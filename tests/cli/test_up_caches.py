"""`scalesim up`'s local system with caches: Redis caches on the machine's Redis under the run's
own key prefix (gone after the stop), memcached caches skipped and said so (no memcached server
here, none faked); the twin describes the same."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest
import redis

from scalesim_patterns.calibrate.twin import twin_text
from scalesim_patterns.generate import generate, write_tree
from scalesim_patterns.generate.code.local import (
    MEMCACHED_SKIPPED,
    LocalService,
    LocalSystem,
    Servers,
    ServerUnreachable,
    missing_requirements,
    plan_servers,
)
from scalesim_patterns.model import loads

from .load_run import run_load

CI = os.environ.get("CI") == "true"

DESIGN = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: lgcachesmoke}
spec:
  services:
    shop:
      workers: 4
      endpoints:
        item:
          work: 0s
          steps:
            - cache: items
              miss: [{query: shopdb, operation: write}]
        page:
          work: 0s
          steps:
            - cache: pages
              miss: [{query: shopdb}]
  caches:
    items:
      engine: redis
      owner: shop
      popularity: {keys: 1}
      capacity: 1
      ttl: 1h
    pages: {engine: memcached, owner: shop, hitRatio: 0.9}
  databases:
    shopdb: {engine: postgresql, owner: shop}
  traffic:
    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: shop.item}]}
"""


def _get(svc: LocalService, path: str) -> int:
    with urllib.request.urlopen(svc.url + path, timeout=10) as response:
        status: int = response.status
        return status


def _metrics(svc: LocalService) -> dict[str, float]:
    with urllib.request.urlopen(svc.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("scalesim_cache_lookups_total", "scalesim_steps_skipped_total")):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_redis_cache_runs_on_the_local_redis_and_memcached_is_skipped(tmp_path: Path) -> None:
    arch = loads(DESIGN)
    if missing_requirements():
        pytest.fail(f"the services' requirements are not installed: {missing_requirements()}")
    files = {k: v for k, v in generate(arch).items() if k.startswith("services/")}
    write_tree(files, tmp_path / "tree")
    try:
        system = LocalSystem(arch, tmp_path / "tree", Servers(), work="sleep")
    except ServerUnreachable as exc:
        if CI:
            pytest.fail(f"CI needs the machine's servers: {exc}")
        pytest.skip(str(exc))
    assert system.plan.skipped == {"pages": MEMCACHED_SKIPPED}
    assert system.plan.needed["redis"] == ["items"]
    local = redis.Redis()
    pattern = system.cache_prefix + "*"
    with system.running(timeout=45):
        shop = system.services["shop"]
        for _ in range(5):
            assert _get(shop, "/item") == 200
            assert _get(shop, "/page") == 200
        seen = _metrics(shop)
        keys = [k.decode() for k in local.scan_iter(match=pattern)]
        started = json.loads(urllib.request.urlopen(shop.url + "/health/started").read())
    # one key: the first lookup misses and fills it, the four after it hit
    assert seen['scalesim_cache_lookups_total{cache="items",outcome="hit"}'] == 4
    assert seen['scalesim_cache_lookups_total{cache="items",outcome="miss"}'] == 1
    assert seen['scalesim_steps_skipped_total{kind="cache",target="pages"}'] == 5
    assert keys == [system.cache_prefix + "lgcachesmoke:items:1"]
    assert "pages" in started["skipped"]
    assert list(local.scan_iter(match=pattern)) == []  # removed at the stop


def test_the_twin_makes_a_skipped_cache_miss_and_lifts_a_capacity_local_redis_cannot_hold() -> None:
    text = DESIGN.replace("keys: 1}\n      capacity: 1", "keys: 500}\n      capacity: 50")
    arch = loads(text)
    plan = plan_servers(arch, Servers())
    twin, notes = twin_text(text, arch, "x.yaml", plan.skipped)
    caches = loads(twin).spec.caches
    assert caches["pages"].hit_ratio == 0 and caches["pages"].latency_of().mean() == 0
    assert caches["items"].capacity == 500 and caches["items"].ttl == 3600
    assert any("pages skipped for real (memcached" in n for n in notes)
    assert any("capacity 50 became the whole key space (500)" in n for n in notes)


LOAD = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: lgcacheload}
spec:
  services:
    shop:
      workers: 8
      endpoints:
        item:
          work: 1ms
          steps:
            - cache: items
              miss: [{query: shopdb}]
  caches:
    items: {engine: redis, owner: shop, popularity: {keys: 1}, capacity: 10}
  databases:
    shopdb: {engine: postgresql, owner: shop}
  traffic:
    t: {arrival: {process: poisson, rate: 20/s}, mix: [{endpoint: shop.item}]}
"""


def test_load_writes_each_caches_real_figures_in_the_simulators_section(tmp_path: Path) -> None:
    import math

    cache = run_load(tmp_path, LOAD, duration="8s", warmup="2s")["runs"][0]["caches"]["items"]
    # one key, filled by the first lookup of the warm-up: every measured lookup hits
    assert cache["hit_ratio"] == 1.0 and cache["hits"] == cache["lookups"]
    # 6 s at 20/s: 120 expected (Poisson sd 11), ± one 0.5 s scrape period at each end (10)
    assert abs(cache["lookups"] - 120) <= 4 * math.sqrt(120) + 10, cache
    assert list(redis.Redis().scan_iter(match="scalesim:*:lgcacheload:*")) == []
