"""`scalesim up` refuses clearly: a missing server is named with the option that points elsewhere."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner, Result

from scalesim_patterns.cli import generate_cmds, run_cmds  # noqa: F401  (register commands)
from scalesim_patterns.cli.main import cli
from scalesim_patterns.generate.code.local import Servers, plan_servers
from scalesim_patterns.model import loads

KAFKA_ONLY = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: k}
spec:
  services:
    a:
      endpoints:
        x: {work: 1ms, steps: [{publish: placed}]}
        on-placed: {method: POST, work: 1ms}
  brokers:
    events:
      type: kafka
      topics:
        placed: {consumers: [{service: a, endpoint: on-placed}]}
  traffic:
    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: a.x}]}
"""

SHOP = (
    Path(__file__).resolve().parents[2] / "src/scalesim_patterns/catalog/templates/ecommerce.yaml"
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens once the socket is closed


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_missing_server_is_named_with_its_option(tmp_path: Path) -> None:
    port = _closed_port()
    result = run("up", str(SHOP), "--postgres-url", f"postgresql://postgres@127.0.0.1:{port}/test")
    assert result.exit_code == 2
    assert "PostgreSQL is not reachable at 127.0.0.1:" + str(port) in result.output
    assert "users-db" in result.output and "--postgres-url" in result.output
    assert "Traceback" not in result.output


def test_unreachable_kafka_is_skipped_not_faked() -> None:
    port = _closed_port()
    servers = Servers({**Servers().urls, "kafka": f"kafka://127.0.0.1:{port}"})
    plan = plan_servers(loads(KAFKA_ONLY), servers)
    assert plan.skipped == {"events": f"Kafka: no broker reachable at 127.0.0.1:{port}"}
    assert "kafka" not in plan.needed


def test_bad_registry_is_refused(tmp_path: Path) -> None:
    result = run("generate", str(SHOP), "-o", str(tmp_path / "out"), "--registry", "Bad Reg")
    assert result.exit_code == 2
    assert "--registry 'Bad Reg'" in result.output
    assert not (tmp_path / "out").exists()
