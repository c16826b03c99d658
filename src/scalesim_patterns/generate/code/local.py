"""Run generated services as local processes on loopback, against real local servers.

`scalesim up` and the smoke test use this. One process per service (replicas are a cluster
matter), each `uvicorn app.main:app` on a free loopback port, with the environment the Kubernetes
ConfigMap would give it, pointed at local servers instead. Servers the design needs are checked
first with a TCP connection: a missing one is a `ServerUnreachable` naming it and the option that
points elsewhere. Kafka is the exception: without a reachable broker its publishes and consumers
are skipped (the services say so on their probes and count the skips), never faked. Engines the
generated code has no driver for (MongoDB, Cassandra, ...) are skipped the same way, and so are
memcached caches (no memcached server runs here): their lookups read the backing store. Redis
caches use the local Redis under a key prefix of their own per run (`scalesim:<run>:`), removed
when the run stops.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scalesim_patterns.model import Architecture

from .spec import SUPPORTED_ENGINES, service_spec

__all__ = [
    "DEFAULT_URLS",
    "LocalService",
    "LocalSystem",
    "ServerUnreachable",
    "Servers",
    "ServiceFailed",
    "missing_requirements",
    "plan_servers",
]

DEFAULT_URLS: dict[str, str] = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root@127.0.0.1:3306/test",
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/",
    "nats": "nats://127.0.0.1:4222",
    "kafka": "kafka://127.0.0.1:9092",
}
"""The machine's standard local servers; each is overridable (`scalesim up --<kind>-url`)."""

OPTION = {
    "postgresql": "--postgres-url",
    "mysql": "--mysql-url",
    "redis": "--redis-url",
    "rabbitmq": "--rabbitmq-url",
    "nats": "--nats-url",
    "kafka": "--kafka-url",
}
LABEL = {
    "postgresql": "PostgreSQL",
    "mysql": "MySQL/MariaDB",
    "redis": "Redis",
    "rabbitmq": "RabbitMQ",
    "nats": "NATS",
    "kafka": "Kafka",
}
_DEFAULT_PORTS = {
    "postgresql": 5432,
    "mysql": 3306,
    "redis": 6379,
    "rabbitmq": 5672,
    "nats": 4222,
    "kafka": 9092,
}

REQUIRED_MODULES = (
    "fastapi",
    "uvicorn",
    "httpx",
    "tenacity",
    "sqlalchemy",
    "asyncpg",
    "aiomysql",
    "redis",
    "aio_pika",
    "nats",
    "aiokafka",
    "prometheus_client",
    "opentelemetry.sdk",
    "opentelemetry.exporter.otlp.proto.grpc",
)
"""What `requirements.txt` installs, by import name: the interpreter must have all of them."""


MEMCACHED_SKIPPED = (
    "memcached: no memcached server runs on this machine; every lookup reads the backing store"
)


class ServerUnreachable(RuntimeError):
    """A server the design needs does not accept connections."""


class ServiceFailed(RuntimeError):
    """A generated service exited or did not become ready in time."""


def missing_requirements() -> list[str]:
    """Import names of the service requirements this interpreter lacks."""
    missing = []
    for name in REQUIRED_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


@dataclass
class Servers:
    """Server URLs by kind (`postgresql`, `mysql`, `redis`, `rabbitmq`, `nats`, `kafka`)."""

    urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))

    def address(self, kind: str) -> tuple[str, int]:
        parts = urlsplit(self.urls[kind])
        return parts.hostname or "127.0.0.1", parts.port or _DEFAULT_PORTS[kind]

    def reachable(self, kind: str, timeout: float = 1.0) -> bool:
        try:
            with socket.create_connection(self.address(kind), timeout=timeout):
                return True
        except OSError:
            return False


@dataclass
class Plan:
    """Which servers the design needs, and what is skipped (with the reason)."""

    needed: dict[str, list[str]] = field(default_factory=dict)
    """Server kind → the databases and brokers of the file on it."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Database, broker or cache of the file → why it is skipped."""


def plan_servers(arch: Architecture, servers: Servers) -> Plan:
    """Check every server the design needs; raise `ServerUnreachable` for a missing one."""
    plan = Plan()
    for key, db in sorted(arch.spec.databases.items()):
        if db.engine in SUPPORTED_ENGINES:
            plan.needed.setdefault(db.engine, []).append(key)
        else:
            plan.skipped[key] = f"{db.engine}: the generated services have no driver for it"
    for key, broker in sorted(arch.spec.brokers.items()):
        plan.needed.setdefault(broker.type, []).append(key)
    for key, cache in sorted(arch.spec.caches.items()):
        if cache.engine == "redis":
            plan.needed.setdefault("redis", []).append(key)
        else:
            plan.skipped[key] = MEMCACHED_SKIPPED
    for kind, users in sorted(plan.needed.items()):
        if servers.reachable(kind):
            continue
        host, port = servers.address(kind)
        if kind == "kafka":
            for key in users:
                plan.skipped[key] = f"Kafka: no broker reachable at {host}:{port}"
            continue
        raise ServerUnreachable(
            f"{LABEL[kind]} is not reachable at {host}:{port} (needed by "
            f"{', '.join(users)}); start it, or point {OPTION[kind]} at one"
        )
    if any(k in plan.skipped for k in plan.needed.get("kafka", [])):
        del plan.needed["kafka"]
    return plan


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LocalService:
    name: str
    folder: Path
    port: int
    readiness: str
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _store_env(prefix: str, engine: str, url: str) -> dict[str, str]:
    parts = urlsplit(url)
    kind = "mysql" if engine == "mysql" else engine
    env = {
        f"{prefix}_ENGINE": engine,
        f"{prefix}_HOST": parts.hostname or "127.0.0.1",
        f"{prefix}_PORT": str(parts.port or _DEFAULT_PORTS[kind]),
        f"{prefix}_NAME": parts.path.lstrip("/") or ("0" if engine == "redis" else "test"),
    }
    if parts.username:
        env[f"{prefix}_USERNAME"] = unquote(parts.username)
    if parts.password:
        env[f"{prefix}_PASSWORD"] = unquote(parts.password)
    return env


class LocalSystem:
    """The generated services of `arch`, found in `tree` (the generate output), run locally."""

    def __init__(
        self,
        arch: Architecture,
        tree: Path,
        servers: Servers,
        python: str = sys.executable,
        work: str = "cpu",
        run_dir: Path | None = None,
        fault_token: str = "",
    ) -> None:
        self.arch = arch
        self.tree = tree
        self.servers = servers
        self.python = python
        self.work = work
        self.run_dir = run_dir or tree / ".scalesim-run"
        self.fault_token = fault_token
        """When set, each service accepts injected faults with this token (local runs only)."""
        self.cache_prefix = f"scalesim:{secrets.token_hex(6)}:"
        """Every Redis cache key of this run starts with it (removed by `stop`)."""
        self.plan = plan_servers(arch, servers)
        self.services: dict[str, LocalService] = {}
        for name, svc in sorted(arch.spec.services.items()):
            if svc.external:
                continue
            spec = service_spec(arch, name)
            self.services[name] = LocalService(
                name, tree / "services" / name, free_port(), spec["health"]["readiness"]
            )

    def environment(self, name: str) -> dict[str, str]:
        """What the ConfigMap and Secrets give the pod, pointed at loopback and local servers."""
        spec = service_spec(self.arch, name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SCALESIM_"))}
        env.update(
            {
                "SERVICE_NAME": name,
                "PORT": str(self.services[name].port),
                "SCALESIM_WORK": self.work,
                "OTEL_SDK_DISABLED": "true",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        for target, prefix in spec["upstreams"].items():
            if target in self.services:
                env[f"{prefix}_URL"] = self.services[target].url
        for db in spec["databases"].values():
            if db["engine"] in SUPPORTED_ENGINES:
                env.update(_store_env(db["env"], db["engine"], self.servers.urls[db["engine"]]))
        for broker in spec["brokers"].values():
            url = self.servers.urls[broker["type"]]
            if broker["type"] == "kafka":
                host, port = self.servers.address("kafka")
                url = f"{host}:{port}"
            env[f"{broker['env']}_URL"] = url
        caches = spec.get("caches", {})
        for key, cache in caches.items():
            if cache["engine"] == "redis" and key not in self.plan.skipped:
                env.update(self._cache_env(cache))
        skipped = sorted(
            k
            for k in self.plan.skipped
            if k in spec["databases"] or k in spec["brokers"] or k in caches
        )
        env["SCALESIM_SKIP"] = ",".join(skipped)
        if self.fault_token:
            env["SCALESIM_FAULT_TOKEN"] = self.fault_token
        return env

    def _cache_env(self, cache: dict[str, str]) -> dict[str, str]:
        parts = urlsplit(self.servers.urls["redis"])
        prefix = cache["env"]
        env = {
            f"{prefix}_ENGINE": "redis",
            f"{prefix}_HOST": parts.hostname or "127.0.0.1",
            f"{prefix}_PORT": str(parts.port or _DEFAULT_PORTS["redis"]),
            f"{prefix}_DB": parts.path.lstrip("/") or "0",
            f"{prefix}_PREFIX": self.cache_prefix + cache["prefix"],
        }
        if parts.password:
            env[f"{prefix}_PASSWORD"] = unquote(parts.password)
        return env

    def clean_caches(self) -> None:
        """Remove this run's keys from the local Redis (SCAN + UNLINK under the run's prefix),
        with the services' own interpreter, which has redis-py."""
        if not any(c.engine == "redis" for c in self.arch.spec.caches.values()):
            return
        if "redis" not in self.plan.needed:
            return
        parts = urlsplit(self.servers.urls["redis"])
        script = (
            "import sys, redis\n"
            "r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), db=int(sys.argv[3]),"
            " password=sys.argv[4] or None)\n"
            "batch = []\n"
            "for key in r.scan_iter(match=sys.argv[5] + '*', count=1000):\n"
            "    batch.append(key)\n"
            "    if len(batch) >= 1000:\n"
            "        r.unlink(*batch); batch = []\n"
            "if batch:\n"
            "    r.unlink(*batch)\n"
        )
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [
                    self.python,
                    "-c",
                    script,
                    parts.hostname or "127.0.0.1",
                    str(parts.port or _DEFAULT_PORTS["redis"]),
                    parts.path.lstrip("/") or "0",
                    unquote(parts.password or ""),
                    self.cache_prefix,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )

    def _spawn(self, name: str) -> None:
        svc = self.services[name]
        svc.log = self.run_dir / f"{name}.log"
        with svc.log.open("ab") as log:
            svc.process = subprocess.Popen(
                [
                    self.python,
                    "-m",
                    "uvicorn",
                    "app.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(svc.port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                    # Longer than load clients keep idle connections, so a request never
                    # meets a connection the server has just closed (a false `unavailable`).
                    "--timeout-keep-alive",
                    "75",
                ],
                cwd=svc.folder,
                env=self.environment(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def start(self, timeout: float = 60.0, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Start every service, then wait until each answers its readiness probe.

        `cancelled` is polled while waiting (Ctrl-C during start-up): when it turns true the wait
        ends with `ServiceFailed`; the caller stops what was started."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name in self.services:
            (self.run_dir / f"{name}.log").write_bytes(b"")
            self._spawn(name)
        self._wait_ready(dict(self.services), timeout, cancelled)

    def _wait_ready(
        self,
        waiting: dict[str, LocalService],
        timeout: float,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        deadline = time.monotonic() + timeout
        while waiting:
            if cancelled():
                raise ServiceFailed("interrupted while the services were starting")
            for name, svc in list(waiting.items()):
                assert svc.process is not None
                if svc.process.poll() is not None:
                    raise ServiceFailed(
                        f"service {name} exited with code {svc.process.returncode}:\n"
                        + self.tail(name)
                    )
                if self.probe(svc, svc.readiness) == 200:
                    del waiting[name]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(sorted(waiting))
                details = "\n".join(self.tail(n) for n in sorted(waiting))
                raise ServiceFailed(f"not ready after {timeout:g}s: {names}\n{details}")
            if waiting:
                time.sleep(0.05)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each running service has used so far, read from /proc
        (Linux); services whose figure cannot be read are left out."""
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        used: dict[str, float] = {}
        for name, svc in self.services.items():
            if svc.process is None or svc.process.poll() is not None:
                continue
            try:
                stat = Path(f"/proc/{svc.process.pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return used

    def kill(self, name: str) -> None:
        """SIGKILL one service (a crash or an outage made real): its port refuses connections."""
        svc = self.services[name]
        if svc.process is not None and svc.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(svc.process.pid, signal.SIGKILL)
            svc.process.wait()

    def restart(self, name: str, timeout: float = 60.0) -> None:
        """Start a killed service again on its port and wait until it is ready."""
        self._spawn(name)
        self._wait_ready({name: self.services[name]}, timeout)

    @staticmethod
    def probe(svc: LocalService, path: str, timeout: float = 2.0) -> int | None:
        try:
            with urllib.request.urlopen(svc.url + path, timeout=timeout) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def tail(self, name: str, lines: int = 15) -> str:
        log = self.services[name].log
        if log is None or not log.exists():
            return ""
        text = log.read_text("utf-8", "replace").splitlines()[-lines:]
        return "\n".join(f"  {name}| {line}" for line in text)

    def stop(self, grace: float = 10.0) -> dict[str, int | None]:
        """SIGTERM every service (uvicorn drains), SIGKILL what is left after `grace` seconds."""
        for svc in self.services.values():
            if svc.process is not None and svc.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(svc.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        codes: dict[str, int | None] = {}
        for name, svc in self.services.items():
            if svc.process is None:
                continue
            try:
                codes[name] = svc.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(svc.process.pid, signal.SIGKILL)
                codes[name] = svc.process.wait()
        self.clean_caches()
        return codes

    @contextlib.contextmanager
    def running(self, timeout: float = 60.0) -> Iterator[LocalSystem]:
        try:
            self.start(timeout)
            yield self
        finally:
            self.stop()
