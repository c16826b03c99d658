"""Start-up cost of the command line, in CPU seconds of the process (interpreter included).

`first-event` runs `scalesim simulate FILE` in this process with the kernel's `run` wrapped to note
`time.process_time()` when the first replication starts its event loop: everything the user
waits for before the first event (interpreter, imports, validation, building the model). `help`
is `scalesim --help` as a whole process. Each figure is the median of `--runs` fresh processes.

    python benchmarks/startup.py [FILE] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child_first_event(path: str) -> None:
    from scalesim_patterns.sim.core import kernel

    original = kernel.Kernel.run
    noted: list[float] = []

    def run(self: kernel.Kernel, until: float) -> None:
        if not noted:
            noted.append(time.process_time())
            print(f"FIRST-EVENT {noted[0]:.4f}", file=sys.stderr, flush=True)
        original(self, until)

    kernel.Kernel.run = run  # type: ignore[method-assign]
    from scalesim_patterns.cli.main import main

    main(["simulate", path, "--duration", "1s", "--replications", "1", "--jobs", "1"])


def first_event(path: str) -> float:
    """CPU seconds of a fresh `scalesim simulate` process up to its first event."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", path],
        capture_output=True,
        text=True,
        check=False,
        # The probe wraps Kernel.run, which a compiled Kernel does not allow: the sources run.
        env={**os.environ, "SCALESIM_PURE": "1"},
    )
    for line in out.stderr.splitlines():
        if line.startswith("FIRST-EVENT "):
            return float(line.split()[1])
    raise RuntimeError(f"no first event: {out.stderr[-2000:]}")


def whole_process(args: list[str]) -> float:
    """User + system CPU seconds of one finished child process."""
    before = os.times()
    subprocess.run(args, capture_output=True, check=True)
    after = os.times()
    return (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "file", nargs="?", help="architecture file (default: the ecommerce template)"
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_first_event(args.child)
        return
    path = args.file
    if path is None:
        from scalesim_patterns import catalog

        path = str(catalog.template("ecommerce").path)
    scalesim = str(Path(sys.executable).with_name("scalesim"))
    bare = statistics.median(
        whole_process([sys.executable, "-c", "pass"]) for _ in range(args.runs)
    )
    helps = statistics.median(whole_process([scalesim, "--help"]) for _ in range(args.runs))
    firsts = statistics.median(first_event(path) for _ in range(args.runs))
    print(f"python -c pass            {bare:6.3f} s CPU")
    print(f"scalesim --help           {helps:6.3f} s CPU")
    print(f"simulate to first event   {firsts:6.3f} s CPU  ({path})")


if __name__ == "__main__":
    main()
