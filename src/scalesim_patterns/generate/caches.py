"""Cache servers of `spec.caches`: Redis or memcached, configured as a pure cache-aside cache.

Each cache gets the data stores' hardened pod (stateful.py: non-root, read-only root file system,
no capabilities, out of the mesh) in a one-replica StatefulSet *without* a volume claim: a cache
holds copies, so nothing is persisted and a restart comes back empty (the simulator's outage does
the same). Its headless Service names the port as Istio reads it (`tcp-redis`, `tcp-memcache`,
`appProtocol: tcp`: Istio's own `redis` protocol is experimental and off by default), and a
NetworkPolicy lets in only the services whose endpoints look it up (and its owner).

Sizes follow the design. `capacity` is in items, servers limit bytes: each item is budgeted
`ITEM_BYTES` (the generated runtime writes values that fill it, see `VALUE_BYTES`), so
`maxmemory` / `-m` = capacity × ITEM_BYTES, at least `MIN_DATA_MIB`; a cache sized by
`hitRatio` or a TTL alone gets `DEFAULT_DATA_MIB`. The container's memory is that plus room for
the server's own overhead (connection buffers, the hash table, fragmentation).

- Redis (https://redis.io/docs/reference/eviction): `maxmemory` with `maxmemory-policy
  allkeys-lru` (the design's LRU; any key may go, TTL or not), `save ""` and `appendonly no`
  (no persistence for a pure cache), `requirepass` from a generated random Secret; probes
  `redis-cli ping` (password from `REDISCLI_AUTH`, never on the command line) and TCP.
- memcached (memcached(1): `-m` item memory in megabytes, `-c` simultaneous connections,
  default 1024): LRU is its only policy; it has no authentication in its text protocol, so the
  NetworkPolicy is the only gate (said in the output README). Probes are TCP (the image has no
  client).
One replica each (the language has no cache replicas, and several independent caches behind one
Service would split the keys), so no PodDisruptionBudget. No exporter: the generator runs none
for databases either; the clients count hits and misses on their own `/metrics`.
"""

from __future__ import annotations

import math

from scalesim_patterns.model.caches import Cache

from .cache_clients import (
    CACHE_PORTS,
    ITEM_BYTES,
    VALUE_BYTES,
    cache_clients,
    cache_names,
    secret_name,
)
from .context import Context
from .datastores import ENGINE_IMAGES
from .network import store_policy
from .render import Document
from .secrets import SecretSpec
from .stateful import StoreSpec, headless_service, service_account, statefulset

__all__ = [
    "DEFAULT_DATA_MIB",
    "ITEM_BYTES",
    "MEMCACHED_IMAGE",
    "VALUE_BYTES",
    "cache_files",
    "data_mib",
]

MEMCACHED_IMAGE = ("docker.io/library/memcached", "1.6.31")
DEFAULT_DATA_MIB = 256
MIN_DATA_MIB = 16
_OVERHEAD_MIB = 32
_MEMCACHED_DEFAULT_CONNECTIONS = 1024
_REDIS_DEFAULT_CLIENTS = 10000
_MEMCACHED_VERSION = (
    "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'version\\r\\n' >&3 "
    "&& read -r -t 3 reply <&3 && [[ $reply == VERSION* ]]"
)


def data_mib(cache: Cache) -> int:
    """Megabytes for cached items (Redis `maxmemory`, memcached `-m`)."""
    if cache.capacity is None:
        return DEFAULT_DATA_MIB
    return max(MIN_DATA_MIB, math.ceil(cache.capacity * ITEM_BYTES / 1024**2))


def _connections(ctx: Context, clients: set[str]) -> int:
    """Connections the clients may open at once: each process pools up to `workers`."""
    total = 0
    for name in clients:
        svc = ctx.arch.spec.services[name]
        if svc.external:
            continue
        replicas = svc.autoscaling.max_replicas if svc.autoscaling else svc.replicas
        total += replicas * svc.workers
    return 2 * total  # old and new pods overlap during a rolling update


def _spec(ctx: Context, name: str, cache: Cache, clients: set[str]) -> StoreSpec:
    mib = data_mib(cache)
    memory = f"{mib + mib // 2 + _OVERHEAD_MIB}Mi"
    connections = _connections(ctx, clients)
    port = CACHE_PORTS[cache.engine]
    if cache.engine == "redis":
        repo, tag = ENGINE_IMAGES["redis"]
    else:
        repo, tag = MEMCACHED_IMAGE
    spec = StoreSpec(
        name=name,
        component="cache",
        image=f"{repo}:{tag}",
        version=tag,
        ports=[port],
        data_path="/data",
        storage=None,
        cpu="250m",
        memory=memory,
    )
    tcp = {
        "tcpSocket": {"port": port.name},
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    if cache.engine == "redis":
        secret = secret_name(name)
        spec.env = [
            {
                "name": "REDIS_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}},
            },
            {
                "name": "REDISCLI_AUTH",
                "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}},
            },
        ]
        spec.command = ["redis-server"]
        spec.args = [
            "--port",
            str(port.number),
            "--requirepass",
            "$(REDIS_PASSWORD)",
            "--maxmemory",
            f"{mib}mb",
            "--maxmemory-policy",
            "allkeys-lru",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        if connections > _REDIS_DEFAULT_CLIENTS:
            spec.args += ["--maxclients", str(connections)]
        spec.writable = ["/data"]
        spec.readiness = {
            "exec": {"command": ["sh", "-c", "redis-cli ping | grep -q PONG"]},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        }
        spec.liveness = {**tcp, "initialDelaySeconds": 10, "periodSeconds": 20}
    else:
        spec.command = ["memcached"]
        spec.args = [
            "--port",
            str(port.number),
            "--memory-limit",
            str(mib),
            "--conn-limit",
            str(max(_MEMCACHED_DEFAULT_CONNECTIONS, connections)),
        ]
        # Ready when it answers the text protocol's `version` (bash's /dev/tcp: the Debian-based
        # image has bash but no client); alive while the port accepts connections.
        spec.readiness = {
            "exec": {"command": ["bash", "-c", _MEMCACHED_VERSION.format(port=port.number)]},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        }
        spec.liveness = {**tcp, "initialDelaySeconds": 10, "periodSeconds": 20}
    return spec


def cache_files(ctx: Context) -> dict[str, list[Document]]:
    """`base/caches/<name>/...` for every cache of the design; secrets and notes into `ctx`."""
    out: dict[str, list[Document]] = {}
    names = cache_names(ctx)
    clients = cache_clients(ctx.arch)
    for key, cache in sorted(ctx.arch.spec.caches.items()):
        name = names[key]
        spec = _spec(ctx, name, cache, clients[key])
        prefix = f"caches/{name}"
        out[f"{prefix}/serviceaccount.yaml"] = [service_account(ctx, spec)]
        out[f"{prefix}/statefulset.yaml"] = [statefulset(ctx, spec)]
        out[f"{prefix}/service.yaml"] = [headless_service(ctx, spec)]
        out[f"{prefix}/networkpolicy.yaml"] = [
            store_policy(ctx, name, "cache", clients[key], [spec.ports[0].number], [])
        ]
        if cache.engine == "redis":
            ctx.secrets.append(
                SecretSpec(
                    secret_name(name),
                    ("password",),
                    (("username", "default"),),
                    tuple(ctx.labels(name, "cache").items()),
                )
            )
        else:
            ctx.note(
                f"cache {key} (memcached) has no authentication: memcached's text protocol has "
                "none, so its NetworkPolicy (only its clients may connect) is the only gate"
            )
        if cache.capacity is None:
            ctx.note(
                f"cache {key}: the design gives no capacity, so it gets {DEFAULT_DATA_MIB} MiB "
                "of item memory; size it to your data"
            )
    return out
