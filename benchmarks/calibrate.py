"""`make calibrate`: the simulator against the generated services running on this machine.

For the e-commerce, saga and circuit-breaker templates (and the breaker's outage scenario), runs
`scalesim calibrate` and prints, per entry, real vs simulated throughput, mean, p50, p99 and error
rate with the relative error and whether it is within the tolerance (throughput 5 %, mean and
p50 15 %, p99 30 %), plus the simulated utilisation of the busiest service (the load is chosen to
keep every service under 60 % busy) and, for the scenario, what the breaker did on each side.

This is a benchmark, not a test: it takes about 20 minutes and its figures depend on the machine
(run it on an idle one). Markdown on standard output; `--only NAME` runs one case.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any

from scalesim_patterns.calibrate import calibrate
from scalesim_patterns.calibrate.compare import format_error, format_figure
from scalesim_patterns.catalog import new
from scalesim_patterns.generate.code.local import Servers, missing_requirements
from scalesim_patterns.model import loads


@dataclass(frozen=True)
class Case:
    name: str
    template: str
    scale: float
    duration: float
    warmup: float
    scenario: str | None = None


CASES = (
    # Scales keep every service's workers (simulated) and process (real CPU) well under 60 %
    # busy with one process each; durations give each entry about 500 requests or more.
    Case("ecommerce", "ecommerce", 0.1, 180.0, 15.0),
    Case("saga", "saga", 0.06, 240.0, 15.0),
    Case("circuit-breaker", "circuit-breaker", 0.1, 180.0, 15.0),
    Case("circuit-breaker/payment-outage", "circuit-breaker", 0.1, 200.0, 30.0, "payment-outage"),
    Case("circuit-breaker/payment-slow", "circuit-breaker", 0.1, 200.0, 30.0, "payment-slow"),
)


def _busiest(simulated: dict[str, Any]) -> tuple[str, float]:
    services = simulated["summary"]["services"]
    best = ("", 0.0)
    for name, report in services.items():
        value = report.get("utilisation")
        mean = value.get("mean") if isinstance(value, dict) else value
        if mean is not None and mean > best[1]:
            best = (name, float(mean))
    return best


def run_case(case: Case, python: str) -> tuple[int, int]:
    text = new(case.template)
    arch = loads(text, f"{case.template}.yaml")
    started = time.monotonic()

    def progress(phase: str, done: float, total: float) -> None:
        if int(done) % 30 == 0:
            print(f"  {case.name}: {phase} {done:.0f}/{total:.0f}", file=sys.stderr, flush=True)

    report = calibrate(
        text,
        arch,
        f"{case.template}.yaml",
        servers=Servers(),
        python=python,
        duration=case.duration,
        warmup=case.warmup,
        scale=case.scale,
        scenario=case.scenario,
        replications=5,
        progress=progress,
    )
    busiest, busy = _busiest(report.simulated)
    hot = max(report.cpu, key=report.cpu.__getitem__) if report.cpu else "-"
    print(f"\n### {case.name}\n")
    print(
        f"rates × {case.scale:g}, {case.duration:g} s with {case.warmup:g} s warm-up; busiest "
        f"service (simulated workers): {busiest} at {busy:.0%}; busiest process (real CPU): "
        f"{hot} at {report.cpu.get(hot, 0.0):.0%} of a core; {time.monotonic() - started:.0f} s\n"
    )
    print("| entry | figure | real | simulated | error | within |")
    print("|---|---|---:|---:|---:|:---:|")
    within = total = 0
    for row in report.comparison.rows:
        ok = row.within
        total += ok is not None
        within += ok is True
        mark = {True: "yes", False: "**no**", None: "–"}[ok]
        print(
            f"| {row.entry} | {row.figure} | {format_figure(row.figure, row.real)} | "
            f"{format_figure(row.figure, row.simulated)} | {format_error(row.figure, row.error)} | {mark} |"
        )
    if report.comparison.clients:
        print("\n| client | figure | real | simulated |")
        print("|---|---|---:|---:|")
        for client, figures in report.comparison.clients.items():
            for figure, pair in figures.items():
                real, sim = pair["real"], pair["simulated"]
                print(
                    f"| {client} | {figure} | {'–' if real is None else f'{real:.4g}'} | "
                    f"{'–' if sim is None else f'{sim:.4g}'} |"
                )
    entry = report.costs.entry
    print(
        f"\ncosts measured: request round trip p50 {2 * entry['p50'] * 1000:.2f} ms, "
        f"p99 {2 * entry['p99'] * 1000:.2f} ms; call p50 {2 * report.costs.hop['p50'] * 1000:.2f} ms"
        + "".join(
            f"; {engine} {op} p50 {table['p50'] * 1000:.2f} ms"
            for (engine, op), table in sorted(report.costs.queries.items())
        )
    )
    print(f"\n{within} of {total} figures within tolerance")
    return within, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run one case: " + ", ".join(c.name for c in CASES))
    args = parser.parse_args()
    if missing_requirements():
        sys.exit(f"the services' requirements are missing: {missing_requirements()}")
    cases = [c for c in CASES if args.only in (None, c.name)]
    if not cases:
        sys.exit(f"--only {args.only}: no such case")
    print("## Calibration: real vs simulated\n")
    grand = [0, 0]
    for case in cases:
        within, total = run_case(case, sys.executable)
        grand[0] += within
        grand[1] += total
    print(f"\n**{grand[0]} of {grand[1]} figures within tolerance over {len(cases)} cases**")


if __name__ == "__main__":
    main()
