"""Results JSON of every catalog template and scenario, to check that a change of speed changes
no result: the pure-Python engine is the reference, a faster build (or a faster code path) must
write the same bytes for the same seed.

Short mode (the default, what the test uses) runs every case for 6 simulated seconds and
compresses each scenario's and rollout's clock by `COMPRESS` (a fault at 60 s happens at 2 s), so
outages, slow-downs, spikes and rollout pauses all happen inside the run. `--full` runs each case
for its own duration instead (minutes of CPU; for a one-off check).

    python benchmarks/equivalence.py dump OUT_DIR [--full]     # one JSON file per case
    python benchmarks/equivalence.py diff DIR_A DIR_B          # exit 1 when any file differs
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SHORT_DURATION = 6.0
COMPRESS = 30.0
"""Scenario and rollout times are divided by this in short mode (60 s -> 2 s)."""
TIME_KEYS = frozenset({"at", "duration"})


def _compress(node: Any, inside: bool) -> Any:
    """Divide every `at` / `duration` under a scenario or a rollout pause by COMPRESS."""
    from scalesim_patterns.model.units import parse_duration

    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if inside and key in TIME_KEYS and isinstance(value, str | int | float):
                out[key] = f"{parse_duration(value) / COMPRESS:.6g}s"
            else:
                out[key] = _compress(value, inside or key in ("scenarios", "pause"))
        return out
    if isinstance(node, list):
        return [_compress(v, inside) for v in node]
    return node


def cases(full: bool = False, only: str | None = None) -> Iterator[tuple[str, str | None, Any]]:
    """(template id, scenario or None, architecture) for every template (or `only` that one)
    and each of its scenarios."""
    from scalesim_patterns import catalog
    from scalesim_patterns.model import Architecture

    for info in catalog.templates():
        if only is not None and info.id != only:
            continue
        arch = catalog.template_architecture(info.id)
        if not full:
            data = arch.model_dump(mode="json", by_alias=True, exclude_none=True)
            arch = Architecture.model_validate(_compress(data, False))
        for scenario in [None, *arch.spec.scenarios]:
            yield info.id, scenario, arch


def dump(out: Path, full: bool = False, only: str | None = None) -> list[Path]:
    """Write `<template>[@<scenario>].json` for every case (one replication, one process)."""
    from scalesim_patterns.sim import simulate

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for template, scenario, arch in cases(full, only):
        result = simulate(
            arch,
            duration=None if full else SHORT_DURATION,
            warmup=None if full else 1.0,
            replications=1,
            jobs=1,
            scenario=scenario,
            limits=None,
        )
        path = out / f"{template}{'@' + scenario if scenario else ''}.json"
        path.write_text(result.to_json(), encoding="utf-8")
        written.append(path)
    return written


def differences(a: Path, b: Path) -> list[str]:
    """Names of the cases whose JSON differs (or exists on one side only)."""
    names_a = {p.name for p in a.glob("*.json")}
    names_b = {p.name for p in b.glob("*.json")}
    bad = sorted(names_a ^ names_b)
    for name in sorted(names_a & names_b):
        if (a / name).read_bytes() != (b / name).read_bytes():
            bad.append(name)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--full", action="store_true")
    d.add_argument("--template", help="only this template (and its scenarios)")
    c = sub.add_parser("diff")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        from scalesim_patterns import compiled

        written = dump(args.out, args.full, args.template)
        build = "compiled" if compiled() else "pure Python"
        print(f"{len(written)} cases written to {args.out} ({build})")
        return
    bad = differences(args.a, args.b)
    count = len(list(args.a.glob("*.json")))
    print(f"{count - len(bad)} of {count} cases identical" + (f"; differ: {bad}" if bad else ""))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
