"""Who connects to which cache, and what a client service is given to find it.

Shared by the cache servers (caches.py: names, NetworkPolicy ingress) and the client services
(services.py: ConfigMap entries and the Redis password; network.py: egress), so both ends of every
connection agree. Kept apart from caches.py so the service builders need not import the servers'.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.caches import Cache
from scalesim_patterns.model.steps import CacheStep, expand

from .context import Context
from .names import env_key, k8s_name
from .stateful import Port

__all__ = [
    "CACHE_PORTS",
    "ITEM_BYTES",
    "VALUE_BYTES",
    "cache_clients",
    "cache_config",
    "cache_egress",
    "cache_names",
    "cache_secret_env",
    "secret_name",
]

ITEM_BYTES = 1024
"""Memory budgeted per cached item: key, value and the server's per-item overhead."""
VALUE_BYTES = 900
"""Bytes of the value the generated runtime stores, so an item stays within `ITEM_BYTES`
(Redis adds roughly 50–100 bytes per key, memcached 50–60 per item plus slab rounding)."""
CACHE_PORTS: dict[str, Port] = {
    # Istio reads `<protocol>[-<suffix>]`: plain TCP (its redis protocol is experimental, off).
    "redis": Port("tcp-redis", 6379),
    "memcached": Port("tcp-memcache", 11211),
}


def secret_name(name: str) -> str:
    """The Secret holding a Redis cache's password (a generated random file, secrets.py)."""
    return k8s_name(name, "credentials")


def cache_names(ctx: Context) -> dict[str, str]:
    """Cache key → object name: the key, unless a service or store already has it."""
    taken = {
        *ctx.arch.spec.services,
        *ctx.db_names.values(),
        *ctx.broker_names.values(),
        *ctx.store_names.values(),
    }
    out: dict[str, str] = {}
    for key in sorted(ctx.arch.spec.caches):
        name = key if key not in taken else k8s_name(key, "cache")
        out[key] = name
        taken.add(name)
    return out


def cache_clients(arch: Architecture) -> dict[str, set[str]]:
    """Cache → services that connect to it: those whose steps look it up, and its owner."""
    out: dict[str, set[str]] = {key: {cache.owner} for key, cache in arch.spec.caches.items()}
    for sname, svc in arch.spec.services.items():
        for ep in svc.endpoints.values():
            for step, _ in expand(ep.steps):
                if isinstance(step, CacheStep) and step.cache in out:
                    out[step.cache].add(sname)
    return {k: {s for s in v if s in arch.spec.services} for k, v in out.items()}


def _client_of(ctx: Context, name: str) -> list[tuple[str, str, Cache]]:
    """(cache key, object name, cache) of each cache service `name` connects to."""
    if not ctx.arch.spec.caches:
        return []
    names = cache_names(ctx)
    clients = cache_clients(ctx.arch)
    return [
        (key, names[key], cache)
        for key, cache in sorted(ctx.arch.spec.caches.items())
        if name in clients[key]
    ]


def cache_config(ctx: Context, name: str) -> dict[str, str]:
    """ConfigMap entries of service `name` for its caches: engine, host, port."""
    data: dict[str, str] = {}
    for key, obj, cache in _client_of(ctx, name):
        data[f"{env_key(key)}_ENGINE"] = cache.engine
        data[f"{env_key(key)}_HOST"] = ctx.host(obj)
        data[f"{env_key(key)}_PORT"] = str(CACHE_PORTS[cache.engine].number)
    return data


def cache_secret_env(ctx: Context, name: str) -> list[dict[str, Any]]:
    """The Redis password of each Redis cache service `name` uses, as a secretKeyRef."""
    return [
        {
            "name": f"{env_key(key)}_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": secret_name(obj), "key": "password"}},
        }
        for key, obj, cache in _client_of(ctx, name)
        if cache.engine == "redis"
    ]


def cache_egress(ctx: Context, name: str) -> list[dict[str, Any]]:
    """Egress rules of service `name` to its caches."""
    return [
        {
            "to": [{"podSelector": {"matchLabels": ctx.selector(obj)}}],
            "ports": [{"protocol": "TCP", "port": CACHE_PORTS[cache.engine].number}],
        }
        for _, obj, cache in _client_of(ctx, name)
    ]
