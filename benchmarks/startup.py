"""Start-up cost of the command line, in CPU seconds of the process (interpreter included).

`first-event` runs `scalesim simulate FILE` in a child process as its console script does
(`cli.main.main`), and notes `time.process_time()` when the first replication is about to start
its event loop: everything the user waits for before the first event (interpreter, imports,
validation, building the model); the child imports nothing else. The probe replaces the engine's
`young_generation` (the context the engine enters right before its first `Kernel.run`; the engine
module is interpreted in both builds), so it measures the compiled engine, as `scalesim simulate`
runs it, and the pure-Python one (`SCALESIM_PURE=1`), each printed. `help` is `scalesim --help` as a
whole process. Each figure is the median of `--runs` fresh processes, after one warm-up run of each.

The children may write and read the bytecode cache (`__pycache__`) even when
`PYTHONDONTWRITEBYTECODE` is set here, as an installed package has it (pip compiles at install):
without it every process compiles the package's sources again, 0.1 s of the figure that no user
pays. `simulate 1s, whole` is the whole `scalesim simulate FILE --duration 1s` process:
what the user waits in all, the modules its run and report import on first use included.
`--no-bytecode-cache` keeps the variable; it measures a compile only where no
`__pycache__` exists yet.

    python benchmarks/startup.py [FILE] [--runs 7] [--no-bytecode-cache]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

HERE = Path(__file__).resolve().parent
ENGINE = "scalesim_patterns.sim.engine"
SIMULATE_OPTIONS = ("--duration", "1s", "--replications", "1", "--jobs", "1")
"""The options of every `scalesim simulate` measured here (first event and whole process)."""
GOAL = 0.25
"""Issue 17's goal: `scalesim simulate` under 0.25 s of CPU before the first event."""


class _FirstEventProbe:
    """Wraps the engine's `young_generation` when the engine module loads, so that `scalesim
    simulate` runs exactly as from its console script (its `main` first, then what the command
    imports) and the probe adds nothing before it. A meta path finder for that one module: the
    finders behind it find it, its loader runs it, and `_wrap` patches it."""

    def find_spec(
        self, fullname: str, path: Any, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != ENGINE:
            return None
        sys.meta_path.remove(self)
        found = (getattr(f, "find_spec", None) for f in sys.meta_path)
        spec: ModuleSpec | None = next(
            (s for s in (find(fullname, path, target) for find in found if find) if s), None
        )
        if spec is None or spec.loader is None:
            return None
        loader: Any = spec.loader
        run_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            _wrap(module)

        loader.exec_module = exec_module
        return spec


def _wrap(engine: ModuleType) -> None:
    original = engine.young_generation
    noted: list[float] = []

    def young_generation() -> Any:
        if not noted:
            noted.append(time.process_time())
            print(f"FIRST-EVENT {noted[0]:.4f}", file=sys.stderr, flush=True)
        return original()

    engine.__dict__["young_generation"] = young_generation


def _child_first_event(path: str) -> None:
    # The console script imports `scalesim_patterns.cli.main`, whose first import is the package
    # (it puts the pure-Python finder first on the meta path): the probe goes in front of it.
    import scalesim_patterns  # noqa: F401

    sys.meta_path.insert(0, _FirstEventProbe())
    from scalesim_patterns.cli.main import main

    main(["simulate", path, *SIMULATE_OPTIONS])


def child_env(bytecode_cache: bool) -> dict[str, str]:
    env = dict(os.environ)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def first_event(path: str, env: dict[str, str], pure: bool = False) -> float:
    """CPU seconds of a fresh `scalesim simulate` process up to its first event."""
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--child", path],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "SCALESIM_PURE": "1"} if pure else env,
    )
    for line in out.stderr.splitlines():
        if line.startswith("FIRST-EVENT "):
            return float(line.split()[1])
    raise RuntimeError(f"no first event: {out.stderr[-2000:]}")


def whole_process(args: list[str], env: dict[str, str]) -> float:
    """User + system CPU seconds of one finished child process."""
    import subprocess

    before = os.times()
    subprocess.run(args, capture_output=True, check=True, env=env)
    after = os.times()
    return (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> None:
    import argparse
    import statistics

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "file", nargs="?", help="architecture file (default: the ecommerce template)"
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE for the children",
    )
    args = parser.parse_args()
    path = args.file
    if path is None:
        from scalesim_patterns import catalog

        path = str(catalog.template("ecommerce").path)
    scalesim = str(Path(sys.executable).with_name("scalesim"))
    env = child_env(not args.no_bytecode_cache)
    for warm_pure in (False, True):
        first_event(path, env, warm_pure)  # warm-up: writes the bytecode cache of what changed
    bare = statistics.median(
        whole_process([sys.executable, "-c", "pass"], env) for _ in range(args.runs)
    )
    helps = statistics.median(whole_process([scalesim, "--help"], env) for _ in range(args.runs))
    simulate = [scalesim, "simulate", path, *SIMULATE_OPTIONS]
    whole = statistics.median(whole_process(simulate, env) for _ in range(args.runs))
    runs = [(first_event(path, env), first_event(path, env, True)) for _ in range(args.runs)]
    compiled = statistics.median(c for c, _ in runs)
    pure_python = statistics.median(p for _, p in runs)
    print(f"python -c pass            {bare:6.3f} s CPU")
    print(f"scalesim --help           {helps:6.3f} s CPU")
    spread = f"{min(c for c, _ in runs):.3f}–{max(c for c, _ in runs):.3f}"
    print(f"simulate to first event   {compiled:6.3f} s CPU  (runs {spread}; {path})")
    print(f"  the same, pure Python   {pure_python:6.3f} s CPU")
    print(
        f"simulate 1s, whole        {whole:6.3f} s CPU  (the process: run, report, their imports)"
    )
    verdict = "met" if compiled < GOAL else "NOT met"
    print(f"goal: first event under {GOAL:g} s CPU: {compiled:.3f} s (median), {verdict}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        # Before `main`: the child imports nothing `scalesim simulate` would not (argparse,
        # statistics and subprocess were 0.01 s of its figure).
        _child_first_event(sys.argv[2])
    else:
        main()
