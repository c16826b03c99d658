"""Benchmark: a run streamed over the web API against the same run through `scalesim simulate`.

Both sides are what a user does. The CLI side starts `scalesim simulate FILE --json OUT` (a new
interpreter each time, as from a shell). The web side is a running `scalesim serve` (one worker,
niceness 0 like the CLI); the client POSTs the run, reads its Server-Sent Events to the end and
fetches the result. Wall time is measured around each; they alternate, several times, and the
medians are compared. The results must be byte-identical, which is checked.

A third figure isolates the cost of serving: the `simulate()` call alone (with its JSON), timed
inside an interpreter that has already started; "web_vs_simulate_call" is then what the worker
process, the store and the event stream add to the simulation itself.

    python benchmarks/web_sse.py              # 60 s simulated, 1 and 2 replications, 3 rounds
    python benchmarks/web_sse.py --quick      # 20 s simulated, 2 rounds
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from scalesim_patterns import catalog


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cli_run(file: Path, out: Path, duration: str, replications: int, seed: int) -> float:
    exe = Path(sys.executable).with_name("scalesim")
    t0 = time.perf_counter()
    subprocess.run(
        [
            str(exe),
            "simulate",
            str(file),
            "--duration",
            duration,
            "--seed",
            str(seed),
            "--replications",
            str(replications),
            "--json",
            str(out),
            "--force",
            "--no-progress",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


ENGINE = """
import sys, time
from scalesim_patterns.model import load
from scalesim_patterns.model.units import parse_duration
from scalesim_patterns.sim import simulate
arch = load(sys.argv[1])
t0 = time.perf_counter()
result = simulate(arch, seed=int(sys.argv[4]), duration=parse_duration(sys.argv[2]), replications=int(sys.argv[3]))
text = result.to_json()
print(time.perf_counter() - t0)
"""


def engine_run(file: Path, duration: str, replications: int, seed: int) -> float:
    """The `simulate()` call and its JSON alone, timed inside the interpreter (no start-up)."""
    out = subprocess.run(
        [sys.executable, "-c", ENGINE, str(file), duration, str(replications), str(seed)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def web_run(
    c: httpx.Client, arch_id: int, duration: str, replications: int, seed: int
) -> tuple[float, str, int]:
    t0 = time.perf_counter()
    r = c.post(
        "/api/runs",
        json={
            "architecture_id": arch_id,
            "duration": duration,
            "replications": replications,
            "seed": seed,
        },
    )
    r.raise_for_status()
    run_id = r.json()["id"]
    events = 0
    with c.stream("GET", f"/api/runs/{run_id}/events") as s:
        for line in s.iter_lines():
            if line.startswith("event: "):
                events += 1
    result = c.get(f"/api/runs/{run_id}/result")
    result.raise_for_status()
    return time.perf_counter() - t0, result.text, events


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    duration = "20s" if args.quick else "60s"
    rounds = 2 if args.quick else 3
    folder = Path(tempfile.mkdtemp(prefix="scalesim-bench-"))
    file = folder / "shop.yaml"
    file.write_text(catalog.template_text("ecommerce"))
    port = _port()
    exe = Path(sys.executable).with_name("scalesim")
    server = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{folder / 'store.db'}",
            "--workers",
            "1",
            "--nice",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=600) as c:
            arch = c.post("/api/architectures", json={"name": "bench", "text": file.read_text()})
            arch.raise_for_status()
            arch_id = arch.json()["id"]
            web_run(c, arch_id, "2s", 1, 1)  # warm: fork server, imports
            rows = []
            for replications in (1, 2):
                cli_t, web_t, engine_t = [], [], []
                events = 0
                for i in range(rounds):
                    out = folder / f"cli-{replications}-{i}.json"
                    cli_t.append(cli_run(file, out, duration, replications, 7 + i))
                    t, text, events = web_run(c, arch_id, duration, replications, 7 + i)
                    web_t.append(t)
                    engine_t.append(engine_run(file, duration, replications, 7 + i))
                    if text != out.read_text():
                        raise SystemExit("the web result differs from simulate --json")
                cli_m, web_m = statistics.median(cli_t), statistics.median(web_t)
                engine_m = statistics.median(engine_t)
                rows.append(
                    {
                        "replications": replications,
                        "simulated": duration,
                        "cli_s": round(cli_m, 3),
                        "web_sse_s": round(web_m, 3),
                        "events_streamed": events,
                        "simulate_call_s": round(engine_m, 3),
                        "web_vs_cli": f"{(web_m / cli_m - 1) * 100:+.1f} %",
                        "web_vs_simulate_call": f"{(web_m / engine_m - 1) * 100:+.1f} %",
                    }
                )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    print(
        json.dumps(
            {"cores": os.cpu_count(), "load_average": os.getloadavg(), "rows": rows}, indent=2
        )
    )


if __name__ == "__main__":
    main()
