"""A real `scalesim serve` in a subprocess, for the load and restart tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(db_url: str, log: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the server, wait for /healthz, yield (base URL, process); stop it at the end."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SCALESIM_TOKEN", None)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scalesim_patterns.cli",
                "serve",
                "--port",
                str(port),
                "--db",
                db_url,
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited {proc.returncode}: {log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {log.read_text()}")
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


PROBE = """
import json, sys, time, os, httpx
base, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
lat = []
with httpx.Client(base_url=base, timeout=10) as c:
    while not os.path.exists(stop):
        t0 = time.perf_counter()
        r = c.get("/healthz")
        lat.append([time.perf_counter() - t0, r.status_code])
        time.sleep(0.02)
with open(out, "w") as f:
    json.dump(lat, f)
"""


@contextmanager
def probing(base: str, folder: Path) -> Iterator[list[tuple[float, int]]]:
    """/healthz probed every 20 ms from a separate process (so the load's own client threads
    do not delay the probe); yields the list, filled with (seconds, status) at the end."""
    out, stop = folder / "probe.json", folder / "probe.stop"
    proc = subprocess.Popen([sys.executable, "-c", PROBE, base, str(out), str(stop)])
    found: list[tuple[float, int]] = []
    try:
        yield found
    finally:
        stop.write_text("")
        proc.wait(timeout=30)
        import json

        found.extend((float(s), int(c)) for s, c in json.loads(out.read_text()))
