"""Databases and event stores: a StatefulSet, a headless Service and a credentials Secret each.

Images are the engines' official ones with pinned tags (override the tag with the database's
`version`). Each engine's entry says where it keeps data, what it writes besides, how to probe it
and how it takes credentials; docs/generate.md lists the caveats per engine.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model.data import Database, EventStore
from scalesim_patterns.model.units import format_memory

from .context import Context
from .names import k8s_name
from .render import Document
from .secrets import SecretSpec
from .stateful import Port, StoreSpec, headless_service, pdb, service_account, statefulset

__all__ = ["ENGINE_IMAGES", "ENGINE_USERS", "database_files", "event_store_files"]


ENGINE_IMAGES: dict[str, tuple[str, str]] = {
    "postgresql": ("docker.io/library/postgres", "16.4"),
    "mysql": ("docker.io/library/mysql", "8.4.2"),
    "mongodb": ("docker.io/library/mongo", "7.0.14"),
    "cassandra": ("docker.io/library/cassandra", "4.1.6"),
    "neo4j": ("docker.io/library/neo4j", "5.23.0"),
    "clickhouse": ("docker.io/clickhouse/clickhouse-server", "24.8.4.13"),
    "elasticsearch": ("docker.elastic.co/elasticsearch/elasticsearch", "8.15.1"),
    "redis": ("docker.io/library/redis", "7.4.0"),
    "dynamodb": ("docker.io/amazon/dynamodb-local", "2.5.2"),
    "eventstoredb": ("docker.io/eventstore/eventstore", "23.10.1-jammy"),
}
_SIZES: dict[str, tuple[str, str]] = {
    "cassandra": ("500m", "2Gi"),
    "elasticsearch": ("500m", "2Gi"),
    "neo4j": ("500m", "2Gi"),
    "clickhouse": ("500m", "2Gi"),
}


def _secret_env(var: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _exec(command: list[str], period: int = 10) -> dict[str, Any]:
    return {
        "exec": {"command": command},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }


def _tcp(port: str, period: int = 20) -> dict[str, Any]:
    return {
        "tcpSocket": {"port": port},
        "initialDelaySeconds": 30,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": 6,
    }


def _http(path: str, port: str, period: int = 10) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }


def _engine(spec: StoreSpec, engine: str, db_name: str, secret: str) -> None:
    """Fill in the engine-specific parts of `spec`."""
    user = _secret_env
    if engine == "postgresql":
        spec.env = [
            user("POSTGRES_USER", secret, "username"),
            user("POSTGRES_PASSWORD", secret, "password"),
            {"name": "POSTGRES_DB", "value": db_name},
            {"name": "PGDATA", "value": f"{spec.data_path}/pgdata"},
        ]
        spec.writable = ["/var/run/postgresql"]
        spec.readiness = _exec(["pg_isready", "-h", "127.0.0.1", "-p", "5432"])
        spec.liveness = _tcp(spec.ports[0].name)
    elif engine == "mysql":
        spec.env = [
            user("MYSQL_USER", secret, "username"),
            user("MYSQL_PASSWORD", secret, "password"),
            user("MYSQL_ROOT_PASSWORD", secret, "root-password"),
            {"name": "MYSQL_DATABASE", "value": db_name},
        ]
        spec.writable = ["/var/run/mysqld", "/var/lib/mysql-files"]
        spec.readiness = _exec(["mysqladmin", "ping", "-h", "127.0.0.1"])
        spec.liveness = _tcp(spec.ports[0].name)
    elif engine == "mongodb":
        spec.env = [
            user("MONGO_INITDB_ROOT_USERNAME", secret, "username"),
            user("MONGO_INITDB_ROOT_PASSWORD", secret, "password"),
            {"name": "MONGO_INITDB_DATABASE", "value": db_name},
        ]
        spec.writable = ["/data/configdb"]
        spec.readiness = _exec(["mongosh", "--quiet", "--eval", "db.adminCommand('ping')"])
        spec.liveness = _tcp(spec.ports[0].name)
    elif engine == "cassandra":
        spec.env = [
            {"name": "MAX_HEAP_SIZE", "value": "1G"},
            {"name": "HEAP_NEWSIZE", "value": "256M"},
            {"name": "CASSANDRA_CLUSTER_NAME", "value": db_name},
        ]
        spec.writable = ["/opt/cassandra/logs"]
        spec.seeded = ["/etc/cassandra"]
        spec.readiness = _exec(["sh", "-c", "nodetool status | grep -q '^UN'"], 15)
        spec.liveness = _tcp(spec.ports[0].name)
    elif engine == "neo4j":
        spec.env = [
            user("NEO4J_PASSWORD", secret, "password"),
            {"name": "NEO4J_AUTH", "value": "neo4j/$(NEO4J_PASSWORD)"},
        ]
        spec.writable = ["/logs"]
        spec.seeded = ["/var/lib/neo4j/conf"]
        spec.readiness = _http("/", "http")
        spec.liveness = _tcp(spec.ports[0].name)
    elif engine == "clickhouse":
        spec.env = [
            user("CLICKHOUSE_USER", secret, "username"),
            user("CLICKHOUSE_PASSWORD", secret, "password"),
            {"name": "CLICKHOUSE_DB", "value": db_name},
            {"name": "CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT", "value": "1"},
        ]
        spec.writable = ["/var/log/clickhouse-server"]
        spec.seeded = ["/etc/clickhouse-server"]
        spec.readiness = _http("/ping", spec.ports[0].name)
        spec.liveness = _tcp("native")
    elif engine == "elasticsearch":
        spec.env = [
            user("ELASTIC_PASSWORD", secret, "password"),
            {"name": "discovery.type", "value": "single-node"},
            {"name": "xpack.security.enabled", "value": "true"},
            {"name": "xpack.security.http.ssl.enabled", "value": "false"},
            {"name": "xpack.security.transport.ssl.enabled", "value": "false"},
            {"name": "node.store.allow_mmap", "value": "false"},
            {"name": "ES_JAVA_OPTS", "value": "-Xms1g -Xmx1g"},
        ]
        spec.writable = ["/usr/share/elasticsearch/logs"]
        spec.seeded = ["/usr/share/elasticsearch/config"]
        spec.readiness = _exec(
            [
                "sh",
                "-c",
                'curl -fsu "elastic:$ELASTIC_PASSWORD" '
                "'http://127.0.0.1:9200/_cluster/health?local=true' >/dev/null",
            ]
        )
        spec.liveness = _tcp("transport")
    elif engine == "redis":
        spec.env = [user("REDIS_PASSWORD", secret, "password")]
        spec.args = ["--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes"]
        spec.readiness = _exec(
            ["sh", "-c", 'redis-cli --no-auth-warning -a "$REDIS_PASSWORD" ping | grep -q PONG']
        )
        spec.liveness = _tcp(spec.ports[0].name)
    elif engine == "dynamodb":
        spec.command = ["java"]
        spec.args = ["-jar", "DynamoDBLocal.jar", "-sharedDb", "-dbPath", spec.data_path]
        spec.readiness = _exec(["sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000"])
        spec.liveness = _tcp(spec.ports[0].name)
    elif engine == "eventstoredb":
        spec.env = [
            {"name": "EVENTSTORE_INSECURE", "value": "true"},
            {"name": "EVENTSTORE_CLUSTER_SIZE", "value": "1"},
            {"name": "EVENTSTORE_RUN_PROJECTIONS", "value": "All"},
            {"name": "EVENTSTORE_ENABLE_ATOM_PUB_OVER_HTTP", "value": "true"},
        ]
        spec.writable = ["/var/log/eventstore"]
        spec.readiness = _http("/health/live", spec.ports[0].name)
        spec.liveness = _tcp(spec.ports[0].name)


_DATA_PATHS = {
    "postgresql": "/var/lib/postgresql/data",
    "mysql": "/var/lib/mysql",
    "mongodb": "/data/db",
    "cassandra": "/var/lib/cassandra",
    "neo4j": "/data",
    "clickhouse": "/var/lib/clickhouse",
    "elasticsearch": "/usr/share/elasticsearch/data",
    "redis": "/data",
    "dynamodb": "/home/dynamodblocal/data",
    "eventstoredb": "/var/lib/eventstore",
}
_PORTS: dict[str, list[Port]] = {
    "postgresql": [Port("postgresql", 5432)],
    "mysql": [Port("mysql", 3306)],
    "mongodb": [Port("mongodb", 27017)],
    "cassandra": [Port("cql", 9042)],
    "neo4j": [Port("bolt", 7687), Port("http", 7474, http=True)],
    "clickhouse": [Port("http", 8123, http=True), Port("native", 9000)],
    "elasticsearch": [Port("http", 9200, http=True), Port("transport", 9300)],
    "redis": [Port("redis", 6379)],
    "dynamodb": [Port("http", 8000, http=True)],
    "eventstoredb": [Port("http", 2113, http=True)],
}


# The user each engine's image really has (or creates from the environment): Redis knows only
# `default`, Elasticsearch `elastic`, Neo4j `neo4j`; the others create `app` at first start.
ENGINE_USERS = {
    "redis": "default",
    "elasticsearch": "elastic",
    "neo4j": "neo4j",
    "cassandra": "cassandra",
    "dynamodb": "local",
}


def _secret(ctx: Context, name: str, engine: str, keys: list[str]) -> None:
    """Register the database's credentials; their values are random files (secrets.py)."""
    ctx.secrets.append(
        SecretSpec(
            k8s_name(name, "credentials"),
            tuple(k for k in keys if k != "username"),
            (("username", ENGINE_USERS.get(engine, "app")),),
            tuple(ctx.labels(name, "database").items()),
        )
    )


def _store_files(ctx: Context, spec: StoreSpec) -> dict[str, list[Document]]:
    files = {
        "serviceaccount.yaml": [service_account(ctx, spec)],
        "statefulset.yaml": [statefulset(ctx, spec)],
        "service.yaml": [headless_service(ctx, spec)],
    }
    budget = pdb(ctx, spec)
    if budget is not None:
        files["pdb.yaml"] = [budget]
    return files


def database_files(ctx: Context, db_key: str, db: Database) -> dict[str, list[Document]]:
    name = ctx.db_names[db_key]
    repo, tag = ENGINE_IMAGES[db.engine]
    version = db.version or tag
    cpu, memory = _SIZES.get(db.engine, ("250m", "512Mi"))
    ports = list(_PORTS[db.engine])
    main = ports[0]
    if main.number != db.port:
        ports[0] = Port(main.name, db.port, main.http)
    spec = StoreSpec(
        name=name,
        component="database",
        image=f"{repo}:{version}",
        version=version,
        ports=ports,
        data_path=_DATA_PATHS[db.engine],
        storage=format_memory(db.storage),
        cpu=cpu,
        memory=memory,
    )
    secret_name = k8s_name(name, "credentials")
    _engine(spec, db.engine, db_key.replace("-", "_"), secret_name)
    keys = ["password", "username"] + (["root-password"] if db.engine == "mysql" else [])
    files = _store_files(ctx, spec)
    _secret(ctx, name, db.engine, keys)
    return files


def event_store_files(ctx: Context, key: str, store: EventStore) -> dict[str, list[Document]]:
    name = ctx.store_names[key]
    repo, tag = ENGINE_IMAGES["eventstoredb"]
    spec = StoreSpec(
        name=name,
        component="event-store",
        image=f"{repo}:{tag}",
        version=tag,
        ports=list(_PORTS["eventstoredb"]),
        data_path=_DATA_PATHS["eventstoredb"],
        storage="10Gi",
        cpu="500m",
        memory="1Gi",
    )
    _engine(spec, "eventstoredb", key, "")
    return _store_files(ctx, spec)
