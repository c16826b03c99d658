"""The young-generation threshold is raised while simulations run and put back after the last."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.collector import YOUNG, young_generation

TEMPLATES = Path(__file__).resolve().parents[3] / "src/scalesim_patterns/catalog/templates"


@pytest.fixture(autouse=True)
def default_threshold() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_inside_and_restored_after() -> None:
    with young_generation():
        assert gc.get_threshold() == (YOUNG, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_after_an_exception() -> None:
    with pytest.raises(RuntimeError), young_generation():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_runs_restore_only_when_the_last_ends() -> None:
    """Two threads: the first leaves while the second is still inside; the threshold stays
    raised until the second leaves (a save/restore per run would put 700 back under it, or
    leave YOUNG for good when they end in the other order)."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, tuple[int, int, int]] = {}

    def first() -> None:
        with young_generation():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with young_generation():
            second_in.set()
            first_out.wait(5)
            seen["after first left"] = gc.get_threshold()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen["after first left"][0] == YOUNG
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_or_disabled_threshold_is_left_alone() -> None:
    gc.set_threshold(0, 10, 10)  # collection of the young generation turned off by the user
    with young_generation():
        assert gc.get_threshold()[0] == 0
    gc.set_threshold(YOUNG * 2, 10, 10)
    with young_generation():
        assert gc.get_threshold()[0] == YOUNG * 2
    assert gc.get_threshold() == (YOUNG * 2, 10, 10)


def test_a_simulation_runs_with_it_and_puts_it_back() -> None:
    during: list[int] = []
    simulate(
        TEMPLATES / "api-gateway.yaml",
        duration=2.0,
        replications=1,
        jobs=1,
        progress=lambda _p: during.append(gc.get_threshold()[0]),
    )
    assert during and set(during) == {YOUNG}
    assert gc.get_threshold() == (700, 10, 10)
