"""Arrival rates that follow a curve or a recorded series: counts per window against the
integral of the written rate (Poisson: variance = mean)."""

from __future__ import annotations

import itertools
import math
import textwrap
from pathlib import Path

from scalesim_patterns.model import load
from scalesim_patterns.sim import simulate

from ..models import architecture

Z = 4.0


def curve_rate(t: float) -> float:
    """The test's own reading of the points below: linear, wrapping every 60 s."""
    pts = [(0.0, 10.0), (20.0, 50.0), (40.0, 20.0), (60.0, 10.0)]
    t = t % 60.0
    for (a, ra), (b, rb) in itertools.pairwise(pts):
        if a <= t < b:
            return ra + (rb - ra) * (t - a) / (b - a)
    raise AssertionError(t)


def integral(rate, t0: float, t1: float, steps: int = 2000) -> float:  # type: ignore[no-untyped-def]
    h = (t1 - t0) / steps
    return sum(rate(t0 + (i + 0.5) * h) for i in range(steps)) * h


def test_a_daily_curve_repeats_and_interpolates() -> None:
    arch = architecture(
        {"s": {"workers": 64, "endpoints": {"e": {"work": "1ms"}}}},
        {
            "load": {
                "arrival": {
                    "process": "series",
                    "period": "60s",
                    "points": [
                        {"at": "0s", "rate": "10/s"},
                        {"at": "20s", "rate": "50/s"},
                        {"at": "40s", "rate": "20/s"},
                    ],
                },
                "mix": [{"endpoint": "s.e"}],
            }
        },
        duration="120s",
        window="5s",
    )
    run = simulate(arch, seed=3).runs[0]
    counts = run.series.entries["s.e"]["count"]
    for t0, n in zip(run.series.time, counts, strict=True):
        expected = integral(curve_rate, t0, t0 + 5.0)
        assert n is not None
        assert abs(n - expected) <= Z * math.sqrt(expected), (t0, n, expected)


def test_a_recorded_series_from_csv_drives_the_arrivals(tmp_path: Path) -> None:
    (tmp_path / "rates.csv").write_text(
        "seconds,rate_per_second\n0,5\n20,80\n40,0\n50,30\n", encoding="utf-8"
    )
    (tmp_path / "arch.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: scalesim.dev/v1alpha1
            kind: Architecture
            metadata: {name: replay}
            spec:
              services:
                s:
                  workers: 64
                  endpoints: {e: {work: 1ms}}
              traffic:
                recorded:
                  arrival: {process: series, file: rates.csv, interpolation: step}
                  mix: [{endpoint: s.e}]
              simulation: {duration: 60s, warmup: 0s, window: 10s}
            """
        ),
        encoding="utf-8",
    )
    arch = load(tmp_path / "arch.yaml")
    run = simulate(arch, seed=1, jobs=1).runs[0]
    counts = run.series.entries["s.e"]["count"]
    expected = [50, 50, 800, 800, 0, 300]  # each row's rate holds until the next row's time
    for n, m in zip(counts, expected, strict=True):
        assert n is not None
        if m == 0:
            assert n == 0
        else:
            assert abs(n - m) <= Z * math.sqrt(m), (counts, expected)
