"""Issue 17's template goal as stated: requests per CPU second now against the engine the issue
was filed on.

The goal is "every catalog template at ≥ 5× today's requests per CPU second", where "today" is
the engine of commit 35516d0 (the landing just before the work on the issue began: pure Python,
no compiled build). benchmarks/speed.py compares the compiled engine with this checkout's pure
engine, which got faster too; this script measures the goal's own figure. Three contenders:

* then: the sources of the commit (`git archive <commit> src`, unpacked into a temporary
  directory that is removed afterwards), run with the same interpreter and packages, on that
  commit's own catalog templates;
* now pure: this checkout's sources with SCALESIM_PURE=1;
* now compiled: this checkout's compiled engine, only when a current build is present (the check
  of benchmarks/speed.py: extensions built from the sources on disk).

Every template of today's catalog, no scenario, the same simulated seconds for all (default:
speed.py's), `simulate(..., duration=S, warmup=0, replications=1, jobs=1, limits=None)`. Each
measurement is a fresh interpreter; `time.process_time()` is read around `simulate` only (not
imports, not loading the template), after an untimed warm-up run of the same engine on one
simulated second of the same template, as benchmarks/speed.py does: the engine now imports some
modules on first use (its mechanisms when it is built, its report modules after the run), where
the engine then imported them all up front, so a cold run would count against now what it does
not count against then (about 20 ms, most of a 20-second run of blue-green); `--cold` measures
without it. The contenders alternate within each round (then, pure,
compiled, then, pure, compiled, …) and each figure is the median of `--rounds` runs. Figures are
requests finished in the run (`totals.count`) per CPU second; the requests of each engine are
printed beside them, since the two checkouts' templates and random streams need not agree.

Not in a git checkout, git missing, or the commit absent (a shallow clone): a line says so and
the "then" contender is skipped.

    python benchmarks/baseline.py [--quick] [--rounds 3] [--seconds 20] [--commit 35516d0]
                                  [--templates ecommerce,banking] [--cold]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src"

# The engine issue 17 was filed on ("today" in its goal): the landing before work on it began.
THEN = "35516d0"
GOAL = 5.0
WARMUP_SECONDS = 1.0
"""Simulated seconds of the untimed warm-up run before each measurement (not with `--cold`)."""


# ---- children: one measurement each, JSON on the last line -----------------------------------


def child(kind: str, arg: str) -> dict[str, Any]:
    """Runs in a fresh interpreter whose PYTHONPATH names the engine's `src`."""
    import scalesim_patterns
    from scalesim_patterns import catalog

    package = str(Path(scalesim_patterns.__file__).resolve().parent)
    is_compiled = getattr(scalesim_patterns, "compiled", None)
    engine = {"package": package, "compiled": is_compiled() if is_compiled else None}
    if kind == "list":
        return {**engine, "templates": [t.id for t in catalog.templates()]}
    from scalesim_patterns.sim import simulate

    template, _, seconds = arg.partition("@")
    arch = catalog.template_architecture(template)
    if kind == "run":
        simulate(arch, duration=WARMUP_SECONDS, warmup=0.0, replications=1, jobs=1, limits=None)
    start = time.process_time()
    result = simulate(
        arch, duration=float(seconds), warmup=0.0, replications=1, jobs=1, limits=None
    )
    cpu = time.process_time() - start
    run = result.runs[0]
    return {**engine, "requests": int(run.report.totals.count), "events": run.events, "cpu": cpu}


# ---- the parent --------------------------------------------------------------------------


class Failed(Exception):
    """A measurement that did not give a figure; the message says why, in one line."""


@dataclass
class Contender:
    label: str
    src: Path
    pure: bool
    compiled: bool | None
    """What the child's `scalesim_patterns.compiled()` must say (None: the engine has none)."""
    templates: list[str] = field(default_factory=list)


def run_child(contender: Contender, kind: str, arg: str) -> dict[str, Any]:
    path = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "SCALESIM_PURE": "1" if contender.pure else "0",
        "PYTHONPATH": str(contender.src) + (os.pathsep + path if path else ""),
    }
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, arg],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
        check=False,
    )
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines() or [f"exit status {out.returncode}"]
        raise Failed(f"{contender.label}, {kind} {arg}: {lines[-1]}")
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    wanted = (contender.src / "scalesim_patterns").resolve()
    if Path(row["package"]) != wanted:
        raise Failed(f"{contender.label}: imported {row['package']} instead of {wanted}")
    if row["compiled"] != contender.compiled and not (
        contender.compiled is None and row["compiled"] is False
    ):
        raise Failed(
            f"{contender.label}: compiled() is {row['compiled']}, not {contender.compiled}"
        )
    return row


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def locate(commit: str) -> tuple[str | None, str]:
    """(full hash, description) of `commit` in this checkout, or (None, why it is skipped)."""
    try:
        inside = git("rev-parse", "--is-inside-work-tree")
    except OSError:
        return None, f"git is not installed: the engine at {commit} is not measured"
    if inside.returncode != 0 or inside.stdout.strip() != b"true":
        return None, f"{ROOT} is not a git checkout: the engine at {commit} is not measured"
    found = git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if found.returncode != 0:
        return None, (
            f"commit {commit} is not in this checkout (a shallow clone? `git fetch --unshallow`"
            " brings it): the engine at it is not measured"
        )
    full = found.stdout.decode().strip()
    date = git("show", "-s", "--format=%cs", full).stdout.decode().strip()
    return full, f"{full[:7]} of {date}"


@contextmanager
def unpacked(commit: str) -> Iterator[Path]:
    """The commit's `src` in a temporary directory, removed on the way out."""
    archive = git("archive", "--format=tar", commit, "src")
    if archive.returncode != 0:
        raise Failed(f"git archive {commit} src: {archive.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory(prefix="scalesim-then-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / "src"


@dataclass
class Row:
    template: str
    rates: dict[str, float] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def measure(
    template: str,
    contenders: Sequence[Contender],
    rounds: int,
    seconds: float,
    cold: bool = False,
) -> Row:
    row = Row(template)
    arg = f"{template}@{seconds:g}"
    playing = [c for c in contenders if template in c.templates]
    samples: dict[str, list[dict[str, Any]]] = {c.label: [] for c in playing}
    for _ in range(rounds):
        for contender in list(playing):
            try:
                samples[contender.label].append(
                    run_child(contender, "run-cold" if cold else "run", arg)
                )
            except Failed as error:
                row.notes.append(f"failed: {error}")
                playing.remove(contender)
                del samples[contender.label]
    for label, runs in samples.items():
        row.rates[label] = statistics.median(r["requests"] / r["cpu"] for r in runs)
        row.requests[label] = runs[0]["requests"]
        if any(r["requests"] != runs[0]["requests"] for r in runs):
            row.notes.append(f"{label}: the request count differs between runs of one seed")
    return row


def table(
    rows: Sequence[Row], then: str, seconds: float, rounds: int, cold: bool = False
) -> list[str]:
    def rate(row: Row, label: str) -> str:
        return f"{row.rates[label]:,.0f}" if label in row.rates else "-"

    def ratio(row: Row, label: str) -> str:
        if label in row.rates and "then" in row.rates:
            return f"{row.rates[label] / row.rates['then']:.2f}"
        return "-"

    def count(row: Row, label: str) -> str:
        return f"{row.requests[label]:,}" if label in row.requests else "-"

    heads = (
        "template",
        "requests then",
        "requests now",
        "then req/CPU s",
        "now pure",
        "now compiled",
        "compiled ÷ then",
        "pure ÷ then",
    )
    cells = [
        (
            row.template,
            count(row, "then"),
            count(row, "now pure"),
            rate(row, "then"),
            rate(row, "now pure"),
            rate(row, "now compiled"),
            ratio(row, "now compiled"),
            ratio(row, "now pure"),
        )
        for row in rows
    ]
    widths = [max(len(c[i]) for c in [heads, *cells]) for i in range(len(heads))]

    def line(values: Sequence[str]) -> str:
        padded = (
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    return [
        f"\nTemplates, {seconds:g} simulated seconds each (no scenario), requests per CPU second,"
        f" median of {rounds} alternated runs"
        f" ({'cold' if cold else 'each after an untimed warm-up run'}); then = {then}",
        line(heads),
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        *(line(cell) for cell in cells),
    ]


def summary(rows: Sequence[Row], label: str) -> str | None:
    pairs = [
        (row.rates[label] / row.rates["then"], row.template)
        for row in rows
        if label in row.rates and "then" in row.rates
    ]
    if not pairs:
        return None
    ratios = [r for r, _ in pairs]
    low, high = min(pairs), max(pairs)
    met = sum(r >= GOAL for r in ratios)
    return (
        f"{label} ÷ then over {len(pairs)} templates: median {statistics.median(ratios):.2f}×,"
        f" min {low[0]:.2f}× ({low[1]}), max {high[0]:.2f}× ({high[1]});"
        f" {met} of {len(pairs)} at ≥ {GOAL:g}×"
    )


def start_then(stack: ExitStack, full: str, commit: str) -> Contender | None:
    """The 'then' contender, its sources unpacked until `stack` closes; None when it cannot run
    here (a line says why)."""
    try:
        src = stack.enter_context(unpacked(full))
        then = Contender("then", src, pure=True, compiled=None)
        then.templates = run_child(then, "list", "")["templates"]
    except Failed as error:
        print(f"the engine at {commit} is not measured: {error}")
        return None
    return then


def current_build() -> tuple[bool, str]:
    """Whether this checkout's compiled engine is present and built from the sources on disk."""
    from speed import built

    if not built():
        return (
            False,
            "no current compiled engine here (make install builds it): no compiled figures",
        )
    return True, "compiled engine: current build"


def parse(argv: Sequence[str] | None, today: Sequence[str]) -> argparse.Namespace:
    from speed import QUICK_TEMPLATE_SECONDS, TEMPLATE_SECONDS

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5 simulated seconds, one round")
    parser.add_argument("--rounds", type=int, help="runs of each contender (median); default 3")
    parser.add_argument(
        "--seconds",
        type=float,
        help=f"simulated seconds per template; default {TEMPLATE_SECONDS:g}",
    )
    parser.add_argument("--commit", default=THEN, help=f"the engine 'then'; default {THEN}")
    parser.add_argument("--templates", help="comma-separated template ids; default all of today's")
    parser.add_argument(
        "--cold", action="store_true", help="no untimed warm-up run before each measurement"
    )
    args = parser.parse_args(argv)
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.seconds is None:
        args.seconds = QUICK_TEMPLATE_SECONDS if args.quick else TEMPLATE_SECONDS
    if not args.seconds > 0:
        parser.error("--seconds must be above 0")
    if args.templates is None:
        args.templates = list(today)
    else:
        args.templates = [t.strip() for t in args.templates.split(",") if t.strip()]
        unknown = [t for t in args.templates if t not in today]
        if unknown or not args.templates:
            parser.error(
                f"no template {', '.join(unknown) or '(none given)'} in today's catalog"
                f" (templates: {', '.join(today)})"
            )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"] and len(argv) == 3:
        print(json.dumps(child(argv[1], argv[2])))
        return 0
    sys.path.insert(0, str(SRC))
    sys.path.insert(0, str(HERE))
    from scalesim_patterns import catalog

    today = [t.id for t in catalog.templates()]
    args = parse(argv, today)
    has_compiled, note = current_build()
    print(note)
    now = [Contender("now pure", SRC, pure=True, compiled=False, templates=today)]
    if has_compiled:
        now.append(Contender("now compiled", SRC, pure=False, compiled=True, templates=today))
    full, described = locate(args.commit)
    print(f"then: {described}" if full else described, flush=True)

    failed = False
    rows: list[Row] = []
    with ExitStack() as stack:
        then = None if full is None else start_then(stack, full, args.commit)
        contenders = [then, *now] if then else now
        if then:
            missing = [t for t in args.templates if t not in then.templates]
            gone = [t for t in then.templates if t not in today]
            if missing:
                print(
                    f"not in the catalog at {args.commit} (no 'then' figure): {', '.join(missing)}"
                )
            if gone:
                print(
                    f"in the catalog at {args.commit} but not today (not measured): {', '.join(gone)}"
                )
        for template in args.templates:
            row = measure(template, contenders, args.rounds, args.seconds, args.cold)
            rows.append(row)
            for line in row.notes:
                print(f"  {template}: {line}", file=sys.stderr, flush=True)
                failed = failed or line.startswith("failed")
            print(f"  {template} measured", file=sys.stderr, flush=True)
    for line in table(
        rows, described if full else "(not measured)", args.seconds, args.rounds, args.cold
    ):
        print(line)
    differ = [
        f"{row.template} ({row.requests['then']:,} then, {row.requests['now pure']:,} now)"
        for row in rows
        if {"then", "now pure"} <= row.requests.keys()
        and row.requests["then"] != row.requests["now pure"]
    ]
    mismatched = [
        row.template
        for row in rows
        if {"now pure", "now compiled"} <= row.requests.keys()
        and row.requests["now pure"] != row.requests["now compiled"]
    ]
    if differ:
        print(
            f"requests differ between then and now (same seconds, same seed): {'; '.join(differ)}"
        )
    if mismatched:
        print(f"pure and compiled disagree on the request count: {', '.join(mismatched)}")
        failed = True
    for label in ("now compiled", "now pure"):
        verdict = summary(rows, label)
        if verdict:
            print(verdict)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
