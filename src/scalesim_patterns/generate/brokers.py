"""Message brokers as plain StatefulSets: Kafka in KRaft mode, RabbitMQ, NATS.

No operator is assumed (no Strimzi): each broker is a StatefulSet whose pods find each other
through the headless Service's stable DNS names. Kafka reads its node id from the pod-index label
Kubernetes 1.28+ puts on StatefulSet pods, so one pod template serves every replica.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from scalesim_patterns.model.data import Broker

from .code.spec import saga_channel_names
from .context import Context
from .names import k8s_name
from .render import Document
from .secrets import SecretSpec
from .stateful import Port, StoreSpec, headless_service, pdb, service_account, statefulset

__all__ = ["BROKER_IMAGES", "broker_files", "kafka_cluster_id"]

BROKER_IMAGES = {
    "kafka": ("docker.io/apache/kafka", "3.8.0"),
    "rabbitmq": ("docker.io/library/rabbitmq", "3.13.7"),
    "nats": ("docker.io/library/nats", "2.10.20"),
}


def kafka_cluster_id(*parts: str) -> str:
    """A KRaft cluster id (16 bytes, URL-safe base64) derived from the names: stable across runs."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _field(var: str, path: str) -> dict[str, Any]:
    return {"name": var, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def _secret_env(var: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _probe(handler: dict[str, Any], delay: int, period: int) -> dict[str, Any]:
    return {
        **handler,
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": 6,
    }


def _pods(ctx: Context, name: str, replicas: int) -> list[str]:
    return [f"{name}-{i}.{ctx.host(name)}" for i in range(replicas)]


def _kafka(ctx: Context, spec: StoreSpec, key: str) -> None:
    rf = min(3, spec.replicas)
    voters = ",".join(
        f"{i}@{host}:9093" for i, host in enumerate(_pods(ctx, spec.name, spec.replicas))
    )
    spec.env = [
        _field("POD_NAME", "metadata.name"),
        _field("KAFKA_NODE_ID", "metadata.labels['apps.kubernetes.io/pod-index']"),
        {"name": "CLUSTER_ID", "value": kafka_cluster_id(ctx.arch.name, key)},
        {"name": "KAFKA_PROCESS_ROLES", "value": "broker,controller"},
        {"name": "KAFKA_LISTENERS", "value": "PLAINTEXT://:9092,CONTROLLER://:9093"},
        {
            "name": "KAFKA_ADVERTISED_LISTENERS",
            "value": f"PLAINTEXT://$(POD_NAME).{ctx.host(spec.name)}:9092",
        },
        {"name": "KAFKA_CONTROLLER_LISTENER_NAMES", "value": "CONTROLLER"},
        {
            "name": "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "value": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        },
        {"name": "KAFKA_INTER_BROKER_LISTENER_NAME", "value": "PLAINTEXT"},
        {"name": "KAFKA_CONTROLLER_QUORUM_VOTERS", "value": voters},
        {"name": "KAFKA_LOG_DIRS", "value": spec.data_path},
        {"name": "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "value": "false"},
        {"name": "KAFKA_DEFAULT_REPLICATION_FACTOR", "value": str(rf)},
        {"name": "KAFKA_MIN_INSYNC_REPLICAS", "value": str(max(1, rf - 1))},
        {"name": "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "value": str(rf)},
        {"name": "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "value": str(rf)},
        {"name": "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "value": str(max(1, rf - 1))},
        {"name": "KAFKA_HEAP_OPTS", "value": "-Xms512m -Xmx512m"},
    ]
    spec.writable = ["/opt/kafka/logs"]
    spec.seeded = ["/opt/kafka/config"]
    spec.readiness = _probe({"tcpSocket": {"port": "kafka"}}, 20, 10)
    spec.liveness = _probe({"tcpSocket": {"port": "controller"}}, 60, 20)
    spec.parallel = True


def _rabbitmq(ctx: Context, spec: StoreSpec, secret: str, config: str) -> None:
    spec.env = [
        _field("POD_NAME", "metadata.name"),
        {"name": "RABBITMQ_USE_LONGNAME", "value": "true"},
        {"name": "RABBITMQ_NODENAME", "value": f"rabbit@$(POD_NAME).{ctx.host(spec.name)}"},
        _secret_env("RABBITMQ_DEFAULT_USER", secret, "username"),
        _secret_env("RABBITMQ_DEFAULT_PASS", secret, "password"),
        _secret_env("ERLANG_COOKIE", secret, "erlang-cookie"),
        {"name": "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "value": "-setcookie $(ERLANG_COOKIE)"},
        {"name": "RABBITMQ_CTL_ERL_ARGS", "value": "-setcookie $(ERLANG_COOKIE)"},
    ]
    spec.writable = ["/var/log/rabbitmq"]
    spec.config_files = {"/etc/rabbitmq/conf.d": config}
    spec.readiness = _probe({"tcpSocket": {"port": "amqp"}}, 20, 10)
    spec.liveness = _probe({"exec": {"command": ["rabbitmq-diagnostics", "-q", "ping"]}}, 60, 30)


def _rabbitmq_config(ctx: Context, spec: StoreSpec) -> str:
    lines = ["cluster_formation.peer_discovery_backend = classic_config"]
    lines += [
        f"cluster_formation.classic_config.nodes.{i + 1} = rabbit@{host}"
        for i, host in enumerate(_pods(ctx, spec.name, spec.replicas))
    ]
    lines += ["listeners.tcp.default = 5672", "loopback_users.guest = false"]
    return "\n".join(lines) + "\n"


def _nats(ctx: Context, spec: StoreSpec, config: str) -> None:
    spec.env = [_field("POD_NAME", "metadata.name")]
    spec.args = ["--config", "/etc/nats/nats.conf", "--name", "$(POD_NAME)"]
    spec.config_files = {"/etc/nats": config}
    spec.readiness = _probe({"httpGet": {"path": "/healthz", "port": "monitor"}}, 5, 10)
    spec.liveness = _probe({"tcpSocket": {"port": "client"}}, 10, 20)


def _nats_config(ctx: Context, spec: StoreSpec) -> str:
    routes = ", ".join(f"nats://{h}:6222" for h in _pods(ctx, spec.name, spec.replicas))
    return (
        "port: 4222\nhttp_port: 8222\n"
        f"cluster {{\n  name: {spec.name}\n  port: 6222\n  routes: [{routes}]\n}}\n"
    )


def _config_map(ctx: Context, spec: StoreSpec, name: str, key: str, text: str) -> Document:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": ctx.meta(name, ctx.labels(spec.name, spec.component, spec.version)),
        "data": {key: text},
    }


def broker_files(ctx: Context, key: str, broker: Broker) -> dict[str, list[Document]]:
    name = ctx.broker_names[key]
    repo, tag = BROKER_IMAGES[broker.type]
    ports = {
        "kafka": [Port("kafka", 9092), Port("controller", 9093)],
        "rabbitmq": [
            Port("amqp", 5672),
            Port("epmd", 4369),
            Port("cluster", 25672),
            Port("prometheus", 15692, http=True),
        ],
        "nats": [Port("client", 4222), Port("cluster", 6222), Port("monitor", 8222, http=True)],
    }[broker.type]
    sizes = {
        "kafka": ("500m", "1Gi", "10Gi", "/var/lib/kafka/data"),
        "rabbitmq": ("250m", "512Mi", "5Gi", "/var/lib/rabbitmq"),
        "nats": ("100m", "128Mi", None, "/data"),
    }[broker.type]
    spec = StoreSpec(
        name=name,
        component="broker",
        image=f"{repo}:{tag}",
        version=tag,
        ports=ports,
        data_path=sizes[3],
        storage=sizes[2],
        cpu=sizes[0],
        memory=sizes[1],
        replicas=broker.replicas,
    )
    files: dict[str, list[Document]] = {}
    if broker.type == "kafka":
        _kafka(ctx, spec, key)
        # The file's topics, and the channels of the choreographed sagas it carries (with the
        # partitions of its widest topic), so that no topic relies on auto-creation.
        counts = {topic: t.partitions for topic, t in broker.topics.items()}
        widest = max(counts.values(), default=1)
        for channel in saga_channel_names(ctx.arch, key):
            counts.setdefault(channel, widest)
        topics = "".join(f"{topic} {n}\n" for topic, n in sorted(counts.items()))
        files["configmap.yaml"] = [
            _config_map(ctx, spec, k8s_name(name, "topics"), "topics.txt", topics)
        ]
    elif broker.type == "rabbitmq":
        secret = k8s_name(name, "credentials")
        config = k8s_name(name, "config")
        _rabbitmq(ctx, spec, secret, config)
        files["configmap.yaml"] = [
            _config_map(ctx, spec, config, "20-cluster.conf", _rabbitmq_config(ctx, spec))
        ]
        ctx.secrets.append(
            SecretSpec(
                secret,
                ("erlang-cookie", "password"),
                (("username", "app"),),
                tuple(ctx.labels(name, "broker", tag).items()),
            )
        )
    else:
        config = k8s_name(name, "config")
        _nats(ctx, spec, config)
        files["configmap.yaml"] = [
            _config_map(ctx, spec, config, "nats.conf", _nats_config(ctx, spec))
        ]
    files["serviceaccount.yaml"] = [service_account(ctx, spec)]
    files["statefulset.yaml"] = [statefulset(ctx, spec)]
    files["service.yaml"] = [headless_service(ctx, spec, publish_not_ready=True)]
    budget = pdb(ctx, spec)
    if budget is not None:
        files["pdb.yaml"] = [budget]
    return files


def broker_ports(broker: Broker) -> list[int]:
    """Ports clients connect to."""
    return {"kafka": [9092], "rabbitmq": [5672], "nats": [4222]}[broker.type]
