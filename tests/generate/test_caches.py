"""Cache servers and their clients in the generated manifests, with figures from the design.

Expected values are worked out here from the design's own numbers (capacity × 1 KiB per item in
MiB, rounded up; connections = 2 × Σ max replicas × workers of the clients), not read back from
the generator's constants, so a change of rule shows up as a failure.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim_patterns.generate import generate, write_secrets, write_tree
from scalesim_patterns.model import load, loads

from . import schemas
from .helpers import documents, find, kubectl_kustomize, of_kind, shop
from .test_valid import _schema_errors

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "cache-aside.yaml"

SOCIAL = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: social}
spec:
  mesh: {enabled: true}
  services:
    timeline:
      replicas: 3
      workers: 16
      autoscaling: {maxReplicas: 40, target: 70}
      endpoints:
        read:
          work: 1ms
          steps:
            - cache: posts
              miss: [{query: posts-db}]
            - call: user.get
    user:
      replicas: 2
      workers: 8
      endpoints:
        get:
          work: 1ms
          steps:
            - cache: user
              miss: [{query: users-db}]
            - cache: posts
              miss: [{query: users-db}]
    audit:
      endpoints:
        log: {work: 1ms}
  caches:
    posts: {engine: memcached, owner: timeline, hitRatio: 0.8}
    user:
      engine: redis
      owner: user
      popularity: {keys: 1000, exponent: 1.0}
      capacity: 100000
      ttl: 30s
  databases:
    posts-db: {engine: postgresql, owner: timeline}
    users-db: {engine: postgresql, owner: user}
  traffic:
    t:
      arrival: {process: poisson, rate: 50/s}
      mix: [{endpoint: timeline.read}]
"""


def _lint_report(files: dict[str, str], tmp_path: Path) -> Any:
    from scalesim_patterns.generate import lint

    write_tree(files, tmp_path / "out")
    write_secrets(tmp_path / "out", files)
    return lint.lint_paths([tmp_path / "out"], crd_paths=[schemas.CRD_DIR])


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = doc["spec"]["template"]["spec"]["containers"][0]
    return container


def _flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _sources(policy: dict[str, Any]) -> set[str]:
    return {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
        if "podSelector" in peer
    }


def test_redis_cache_server_follows_the_design(tmp_path: Path) -> None:
    files = generate(load(EXAMPLE))
    sts = find(files, "StatefulSet", "product-cache")
    container = _container(sts)
    assert container["image"] == "docker.io/library/redis:7.4.0"
    args = container["args"]
    # capacity 20 000 items × 1 KiB = 19.53 MiB → 20mb; LRU as the design; no persistence
    assert _flag(args, "--maxmemory") == "20mb"
    assert _flag(args, "--maxmemory-policy") == "allkeys-lru"
    assert _flag(args, "--save") == "" and _flag(args, "--appendonly") == "no"
    assert _flag(args, "--requirepass") == "$(REDIS_PASSWORD)"
    assert "volumeClaimTemplates" not in sts["spec"]
    assert sts["spec"]["replicas"] == 1
    assert container["resources"]["limits"]["memory"] == "62Mi"  # 20 + 10 + 32 overhead
    assert "redis-cli ping" in " ".join(container["readinessProbe"]["exec"]["command"])
    assert container["livenessProbe"]["tcpSocket"] == {"port": "tcp-redis"}
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert env["REDISCLI_AUTH"] == {"name": "product-cache-credentials", "key": "password"}
    svc = find(files, "Service", "product-cache")
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["ports"] == [
        {
            "name": "tcp-redis",
            "port": 6379,
            "targetPort": "tcp-redis",
            "protocol": "TCP",
            "appProtocol": "tcp",
        }
    ]
    policy = find(files, "NetworkPolicy", "product-cache")
    assert _sources(policy) == {"product"}
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 6379}]
    egress = find(files, "NetworkPolicy", "product")["spec"]["egress"]
    to_cache = [
        r
        for r in egress
        if r["to"][0].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
        == "product-cache"
    ]
    assert to_cache and to_cache[0]["ports"] == [{"protocol": "TCP", "port": 6379}]
    config = find(files, "ConfigMap", "product-config")["data"]
    assert config["PRODUCT_CACHE_HOST"] == "product-cache.cache-aside.svc.cluster.local"
    assert (config["PRODUCT_CACHE_PORT"], config["PRODUCT_CACHE_ENGINE"]) == ("6379", "redis")
    pod_env = _container(find(files, "Deployment", "product"))["env"]
    assert {
        "name": "PRODUCT_CACHE_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "product-cache-credentials", "key": "password"}},
    } in pod_env
    base = yaml.safe_load(files["base/kustomization.yaml"])
    (gen,) = [g for g in base["secretGenerator"] if g["name"] == "product-cache-credentials"]
    assert gen["files"] == ["password=secrets/product-cache-credentials/password"]
    assert gen["literals"] == ["username=default"]
    assert not of_kind(files, "Secret")  # never a value in the manifests
    budgets = {d["metadata"]["name"] for d in of_kind(files, "PodDisruptionBudget")}
    assert "product-cache" not in budgets  # one replica: nothing to keep available
    report = _lint_report(files, tmp_path)
    assert [f.render() for f in report.errors + report.warnings] == []
    assert _schema_errors(files) == []
    value = (tmp_path / "out/base/secrets/product-cache-credentials/password").read_text()
    assert len(value) == 48 and int(value, 16) >= 0  # 24 random bytes, hex


def test_memcached_and_a_shared_cache_with_the_mesh(tmp_path: Path) -> None:
    files = generate(loads(SOCIAL))
    posts = _container(find(files, "StatefulSet", "posts"))
    assert posts["image"] == "docker.io/library/memcached:1.6.31"
    # no capacity: 256 MiB of items; connections 2 × (40 × 16 + 2 × 8) = 1312 > 1024 default
    assert _flag(posts["args"], "--memory-limit") == "256"
    assert _flag(posts["args"], "--conn-limit") == "1312"
    assert "env" not in posts  # memcached has no authentication
    assert "VERSION" in posts["readinessProbe"]["exec"]["command"][-1]
    assert posts["livenessProbe"]["tcpSocket"] == {"port": "tcp-memcache"}
    ports = find(files, "Service", "posts")["spec"]["ports"]
    assert [(p["name"], p["port"], p["appProtocol"]) for p in ports] == [
        ("tcp-memcache", 11211, "tcp")
    ]
    # both services that look it up may connect, and nobody else (audit makes no lookup)
    assert _sources(find(files, "NetworkPolicy", "posts")) == {"timeline", "user"}
    labels = find(files, "StatefulSet", "posts")["spec"]["template"]["metadata"]["labels"]
    assert labels["sidecar.istio.io/inject"] == "false"
    # a cache named like a service gets a suffix; 100 000 items → ceil(97.66) = 98mb
    user_cache = _container(find(files, "StatefulSet", "user-cache"))
    assert _flag(user_cache["args"], "--maxmemory") == "98mb"
    assert "--maxclients" not in user_cache["args"]  # 2 × (2 × 8) is far below 10 000
    assert user_cache["resources"]["requests"]["memory"] == "179Mi"  # 98 + 49 + 32
    assert find(files, "ConfigMap", "user-config")["data"]["USER_HOST"] == (
        "user-cache.social.svc.cluster.local"
    )
    base = yaml.safe_load(files["base/kustomization.yaml"])
    names = {g["name"] for g in base["secretGenerator"]}
    assert "user-cache-credentials" in names and "posts-credentials" not in names
    assert "posts (memcached) has no authentication" in files["README.md"]
    assert "audit" not in str(find(files, "NetworkPolicy", "user-cache")["spec"])
    report = _lint_report(files, tmp_path)
    assert [f.render() for f in report.errors + report.warnings] == []
    assert _schema_errors(files) == []
    # the memcached client library only where a memcached cache is used
    assert "aiomcache==" in files["services/timeline/requirements.txt"]
    assert "aiomcache==" not in files["services/audit/requirements.txt"]


def test_designs_without_caches_get_no_cache_objects() -> None:
    files = generate(shop())
    assert not [p for p, _ in documents(files) if p.startswith("base/caches/")]
    specs = [t for p, t in files.items() if p.endswith("/app/spec.py")]
    assert specs and not [t for t in specs if '"caches"' in t]
    assert not [t for p, t in files.items() if p.endswith("requirements.txt") and "aiomcache" in t]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_cache_output_builds_with_kustomize(tmp_path: Path) -> None:
    for objects in kubectl_kustomize(generate(loads(SOCIAL)), tmp_path / "out").values():
        kinds = [d["kind"] for d in objects]
        assert kinds.count("StatefulSet") == 4  # two caches, two databases


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server binary")
def test_generated_redis_command_runs_a_real_redis_as_the_design_says(tmp_path: Path) -> None:
    """The StatefulSet's own command line, started with the machine's redis-server: the limits,
    policy and persistence it reports, the password it demands, and the readiness probe."""
    import os
    import time

    import redis

    files = generate(load(EXAMPLE))
    container = _container(find(files, "StatefulSet", "product-cache"))
    password = "p" * 48
    port = _free_port()
    args = [a.replace("$(REDIS_PASSWORD)", password) for a in container["args"]]
    args[args.index("--port") + 1] = str(port)
    server = subprocess.Popen(
        [*container["command"], *args, "--dir", str(tmp_path), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, password=password)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        config = client.config_get("*")
        assert int(config["maxmemory"]) == 20 * 1024 * 1024
        assert config["maxmemory-policy"] == "allkeys-lru"
        assert (config["save"], config["appendonly"]) == ("", "no")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
        probe = container["readinessProbe"]["exec"]["command"]
        probe = [c.replace("redis-cli", f"redis-cli -p {port}") for c in probe]
        env = {**os.environ, "REDISCLI_AUTH": password}
        assert subprocess.run(probe, env=env, timeout=10, check=False).returncode == 0
        env["REDISCLI_AUTH"] = "wrong"
        assert subprocess.run(probe, env=env, timeout=10, check=False).returncode != 0
    finally:
        server.terminate()
        server.wait(10)


def test_memcached_readiness_script_parses_and_fails_on_a_closed_port() -> None:
    """No memcached server here (and none faked): the probe is checked for syntax and for
    failing when nothing listens; that it passes against memcached is not tested."""
    files = generate(loads(SOCIAL))
    probe = _container(find(files, "StatefulSet", "posts"))["readinessProbe"]["exec"]["command"]
    assert probe[:2] == ["bash", "-c"]
    assert subprocess.run(["bash", "-n", "-c", probe[2]], check=False).returncode == 0
    closed = probe[2].replace("/11211", f"/{_free_port()}")
    done = subprocess.run(["bash", "-c", closed], capture_output=True, timeout=10, check=False)
    assert done.returncode != 0
