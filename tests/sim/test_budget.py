"""The work estimate refuses absurd simulations before they start, and lets ordinary ones run."""

from __future__ import annotations

import glob
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim_patterns.model import Architecture, load, loads
from scalesim_patterns.sim import Progress, simulate
from scalesim_patterns.sim.budget import (
    SimulationLimits,
    SimulationTooLarge,
    _max_erlang_k,
    check,
    estimate,
)
from scalesim_patterns.sim.parallel import Interrupted, cap_jobs, run_replications

TEMPLATES = Path(__file__).parents[2] / "src" / "scalesim_patterns" / "catalog" / "templates"

BASE = """\
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: mini}
spec:
  simulation: {duration: 10s, warmup: 1s}
  services:
    front:
      replicas: 2
      workers: 4
      endpoints:
        home:
          work: 2ms
  traffic:
    users:
      arrival: {process: poisson, rate: 50/s}
      mix:
        - endpoint: front.home
"""


def arch(old: str = "", new: str = "") -> Architecture:
    return loads(BASE.replace(old, new) if old else BASE)


ISSUE_EXAMPLES = [
    ("rate: 50/s", "rate: 1000000000000/s", {}),
    ("replicas: 2", "replicas: 1000000000", {}),
    (
        "arrival: {process: poisson, rate: 50/s}",
        "users: 1000000000\n      thinkTime: 1s",
        {},
    ),
    ("warmup: 1s}", "warmup: 1s, replications: 1000000000}", {}),
    ("work: 2ms", "work: {type: erlang, k: 1000000000, mean: 2ms}", {}),
    ("duration: 10s", "duration: 1000000h", {}),
    ("", "", {"replications": 10**9}),
    ("", "", {"duration": 3.6e9}),
]


@pytest.mark.parametrize(("old", "new", "options"), ISSUE_EXAMPLES)
def test_the_issue_examples_are_refused_with_the_estimate_and_the_flag(
    old: str, new: str, options: dict[str, Any]
) -> None:
    model = arch(old, new)
    with pytest.raises(SimulationTooLarge) as info:
        simulate(model, **options)
    message = str(info.value)
    assert "--max-events" in message or "--max-memory" in message
    assert "limits=None" in message
    assert "about" in message and "per replication" in message


def test_scale_in_a_scenario_counts() -> None:
    model = loads(BASE + "  scenarios:\n    big: {traffic: {users: {scale: 1e300}}}\n")
    check(model)  # the file's own traffic is fine
    with pytest.raises(SimulationTooLarge):
        check(model, scenario="big")


def test_the_estimate_counts_requests_as_rate_times_duration_times_replications() -> None:
    """Requests are computed here independently: 50/s for 10 s, 3 replications."""
    est = estimate(arch(), replications=3)
    assert est.requests == pytest.approx(50 * 10 * 3)
    closed = estimate(
        arch("arrival: {process: poisson, rate: 50/s}", "users: 20\n      thinkTime: 2s")
    )
    assert closed.requests == pytest.approx(20 * 10 / 2)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(min_value=0.1, max_value=1e15),
    duration=st.floats(min_value=1, max_value=1e9),
    reps=st.integers(min_value=1, max_value=10**9),
    factor=st.floats(min_value=1.5, max_value=100),
)
def test_estimate_grows_with_rate_duration_and_replications(
    rate: float, duration: float, reps: int, factor: float
) -> None:
    model = arch("rate: 50/s", f"rate: {rate:f}/s")
    base = estimate(model, duration=duration, replications=reps)
    assert estimate(model, duration=duration * factor, replications=reps).events > base.events
    assert estimate(model, duration=duration, replications=reps * 2).events > base.events
    faster = arch("rate: 50/s", f"rate: {rate * factor:f}/s")
    assert estimate(faster, duration=duration, replications=reps).events > base.events
    # Within limits or refused: never an exception of another kind, never a NaN passing.
    try:
        check(model, duration=duration, replications=reps)
    except SimulationTooLarge as exc:
        assert exc.estimate.events > 1e9 or exc.estimate.memory > 4 * 1024**3


def test_limits_are_lifted_by_the_argument() -> None:
    model = arch("replicas: 2", "replicas: 1000000000")
    with pytest.raises(SimulationTooLarge):
        check(model)
    check(model, limits=None)
    check(model, limits=SimulationLimits(max_memory=None))
    with pytest.raises(SimulationTooLarge):
        check(arch(), limits=SimulationLimits(max_events=10))


@pytest.mark.parametrize(
    "path",
    sorted(p for p in glob.glob(str(TEMPLATES / "*.yaml")) if not p.endswith("index.yaml")),
)
def test_every_template_and_scenario_fits_the_default_limits(path: str) -> None:
    model = load(path)
    check(model, replications=5)
    for name in model.spec.scenarios:
        check(model, scenario=name, replications=5)


def _max_erlang_k_by_fields(node: Any) -> int:
    """The walk `_max_erlang_k` replaced: every model's `model_fields`, read one by one."""
    from pydantic import BaseModel

    from scalesim_patterns.model.distributions import Erlang

    if isinstance(node, Erlang):
        return node.k
    if isinstance(node, BaseModel):
        children: list[Any] = [getattr(node, name) for name in type(node).model_fields]
    elif isinstance(node, list | tuple):
        children = list(node)
    elif isinstance(node, dict):
        children = list(node.values())
    else:
        return 1
    return max([1, *(_max_erlang_k_by_fields(c) for c in children)])


@pytest.mark.parametrize(
    "path",
    sorted(p for p in glob.glob(str(TEMPLATES / "*.yaml")) if not p.endswith("index.yaml")),
)
def test_the_largest_erlang_k_is_found_as_by_reading_every_field(path: str) -> None:
    """`_max_erlang_k` reads a model's values from its `__dict__`: the same values as its
    fields, in every model of every template."""
    from pydantic import BaseModel

    model = load(path)
    todo: list[Any] = [model]
    while todo:
        node = todo.pop()
        if isinstance(node, BaseModel):
            assert list(node.__dict__) == list(type(node).model_fields), type(node)
            todo.extend(node.__dict__.values())
        elif isinstance(node, list | tuple):
            todo.extend(node)
        elif isinstance(node, dict):
            todo.extend(node.values())
    assert _max_erlang_k(model) == _max_erlang_k_by_fields(model)


def test_the_largest_erlang_k_is_found_inside_an_endpoint() -> None:
    deep = loads(BASE.replace("work: 2ms", "work: {type: erlang, k: 37, mean: 2ms}", 1))
    assert _max_erlang_k(deep) == _max_erlang_k_by_fields(deep) == 37


def test_zero_duration_is_refused_before_running() -> None:
    with pytest.raises(ValueError, match="positive"):
        simulate(arch(), duration=0.0)


# -- stopping ----------------------------------------------------------------------------------


def test_jobs_are_capped_by_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert cap_jobs(64) == 2
    assert cap_jobs(1) == 1


def _interrupt_after(first: int) -> Any:
    seen: list[int] = []

    def progress(p: Progress) -> None:
        seen.append(p.replication)
        if p.replication >= first:
            raise KeyboardInterrupt

    return progress


def test_ctrl_c_in_serial_replications_says_what_finished() -> None:
    model = arch()
    options = {"seed": 1, "duration": 10.0, "warmup": 1.0, "window": None, "scenario": None}
    options["extensions"] = None
    with pytest.raises(Interrupted) as info:
        run_replications(model, options, 4, jobs=1, progress=_interrupt_after(2))
    assert info.value.finished == [0, 1]
    assert info.value.count == 4


def test_ctrl_c_with_queued_replications_stops_the_pool_at_once() -> None:
    """Every worker is ended: none is left running the queued replications."""
    model = arch("duration: 10s", "duration: 600s")
    options = {"seed": 1, "duration": None, "warmup": None, "window": None, "scenario": None}
    options["extensions"] = None
    calls = {"n": 0}

    def progress(p: Progress) -> None:
        calls["n"] += 1
        if calls["n"] >= 3:
            raise KeyboardInterrupt

    children_before = set(_children())
    with pytest.raises(Interrupted) as info:
        run_replications(model, options, 50, jobs=2, progress=progress)
    assert len(info.value.finished) < 50
    assert set(_children()) - children_before == set()


def _children() -> list[int]:
    """Live child processes of this one (from /proc; empty where there is none)."""
    me = os.getpid()
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            out.append(int(Path(stat).parent.name))
    return out


def test_workers_ignore_sigint_so_the_parent_decides() -> None:
    from scalesim_patterns.sim import parallel

    previous = signal.getsignal(signal.SIGINT)
    try:
        parallel._init_worker(None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_slo_on_an_entry_that_receives_nothing_has_no_data() -> None:
    """Rate 0 with an availability SLO crashed after the run; now the verdict is 'no data'."""
    text = BASE.replace("rate: 50/s", "rate: 0/s") + (
        "  slos:\n    - {name: up, target: front.home, availability: 99.5}\n"
    )
    result = simulate(loads(text), duration=5.0, warmup=1.0, jobs=1)
    assert [s.measured for s in result.slos] == [None]
