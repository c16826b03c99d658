"""`scalesim up` refuses clearly: a missing server is named with the option that points elsewhere."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner, Result

from scalesim_patterns.cli import generate_cmds, run_cmds  # noqa: F401  (register commands)
from scalesim_patterns.cli.main import cli
from scalesim_patterns.generate.code.local import Servers, plan_servers
from scalesim_patterns.model import loads

from .load_run import run_load

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


CHAIN = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: chain}
spec:
  services:
    front:
      endpoints:
        go: {work: 1ms, steps: [{call: back.get, timeout: 2s}]}
    back:
      endpoints:
        get: {work: 1ms}
  traffic:
    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: front.go}]}
"""


def test_up_serves_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import json
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    design = tmp_path / "chain.yaml"
    design.write_text(CHAIN, encoding="utf-8")
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scalesim_patterns.cli", "up", str(design), "-o", str(run_dir),
         "--work", "sleep"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        urls: dict[str, str] = {}
        deadline = time.monotonic() + 90
        while len(urls) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            name, url = line.split()[:2]
            urls[name] = url
        assert set(urls) == {"back", "front"}, proc.stderr.read() if proc.stderr else ""
        with urllib.request.urlopen(urls["front"] + "/go", timeout=10) as response:
            body = json.loads(response.read())
        assert body["steps"] == [[{"service": "back", "endpoint": "get", "steps": []}]]
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "stopped: back" in stderr and "front" in stderr
    for url in urls.values():  # nothing listens any more
        try:
            urllib.request.urlopen(url + "/health/live", timeout=2)
            raise AssertionError(f"{url} still answers")
        except OSError:
            pass


OPEN_LOOP = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: openloop}
spec:
  services:
    front:
      endpoints:
        go: {work: 1ms, steps: [{call: back.get, timeout: 2s}]}
    back:
      endpoints:
        get: {work: 1ms, errorRate: 0.2}
  traffic:
    t: {arrival: {process: poisson, rate: 60/s}, mix: [{endpoint: front.go}]}
"""


def test_load_drives_the_files_traffic_and_writes_simulate_shaped_json(tmp_path: Path) -> None:
    import math

    data = run_load(tmp_path, OPEN_LOOP, duration="6s", warmup="1s")
    assert data["format"] == "scalesim.results/v1" and data["architecture"] == "openloop"
    entry = data["runs"][0]["report"]["entries"]["front.go"]
    # Poisson arrivals over the 5 s measured: 300 expected, sd sqrt(300) ≈ 17.
    assert abs(entry["arrivals"] - 300) < 4 * math.sqrt(300), entry["arrivals"]
    # back.get fails 20 % of calls as `error`; front.go propagates it: a binomial share.
    n = entry["count"]
    share = entry["errors"]["error"] / n
    assert abs(share - 0.2) < 4 * math.sqrt(0.2 * 0.8 / n), (share, n)
    assert entry["latency"]["p50"] is not None and entry["latency"]["p50"] < entry["latency"]["max"]
    assert data["summary"]["entries"]["front.go"]["count"] == {"mean": n, "ci95": None, "n": 1}


def test_the_server_options_are_the_local_defaults_and_flags() -> None:
    from scalesim_patterns.cli.servers import SERVER_OPTIONS
    from scalesim_patterns.generate.code.local import DEFAULT_URLS, OPTION

    assert {k: url for k, (_, url) in SERVER_OPTIONS.items()} == DEFAULT_URLS
    assert {k: flag for k, (flag, _) in SERVER_OPTIONS.items()} == OPTION
