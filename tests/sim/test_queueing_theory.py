"""The engine against closed forms from queueing theory (shared/spec/validation.md and more).

Each test runs independent seeded replications and asserts the theoretical value lies inside
the 95 % Student-t interval of the replication means. The runs are sized so the intervals are a
few percent wide; a biased engine fails them.
"""

from __future__ import annotations

import math

import pytest

from scalesim_patterns.sim import Estimate, simulate
from scalesim_patterns.sim.core.stats import batch_means, estimate
from scalesim_patterns.sim.reports.results import latency_windows

from .models import architecture, exp, poisson, service, station


def erlang_c(c: int, lam: float, mu: float) -> float:
    a = lam / mu
    rho = a / c
    top = a**c / (math.factorial(c) * (1 - rho))
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_w(c: int, lam: float, mu: float) -> float:
    return erlang_c(c, lam, mu) / (c * mu - lam) + 1 / mu


def pk_w(lam: float, mean: float, second_moment: float) -> float:
    rho = lam * mean
    return lam * second_moment / (2 * (1 - rho)) + mean


def assert_inside(est: Estimate, theory: float, max_rel_width: float) -> None:
    assert est.half_width is not None
    assert est.half_width < max_rel_width * theory, f"interval too wide to test: {est}"
    assert est.contains(theory), f"theory {theory:.6g} outside {est.low:.6g}..{est.high:.6g}"


def run_latency(arch: object, reps: int, seed: int = 11) -> Estimate:
    result = simulate(arch, replications=reps, seed=seed)  # type: ignore[arg-type]
    est = result.summary.totals.latency.mean
    assert est is not None
    return est


def test_erlang_c_matches_the_validation_table() -> None:
    assert erlang_c(3, 2, 1) == pytest.approx(0.4444, abs=1e-4)
    assert erlang_c(12, 100, 10) == pytest.approx(0.44939, abs=1e-5)
    assert mmc_w(12, 100, 10) == pytest.approx(0.12247, abs=1e-5)


def test_mm1() -> None:
    arch = station("5/s", exp("125ms"), duration="4000s", warmup="100s")
    result = simulate(arch, replications=10, seed=3)
    assert_inside(result.summary.totals.latency.mean, 1 / 3, 0.05)  # type: ignore[arg-type]
    assert_inside(result.summary.services["s"].utilisation, 0.625, 0.03)
    # L = λW = 5/3 requests in the station.
    in_station = estimate(
        [r.report.services["s"].busy_mean + r.report.services["s"].queue_mean for r in result.runs]
    )
    assert_inside(in_station, 5 / 3, 0.08)


def test_mm3() -> None:
    arch = station("2/s", exp("1s"), workers=3, duration="10000s", warmup="200s")
    assert_inside(run_latency(arch, 10), 1.4444444, 0.05)


def test_mm12_thread_pool() -> None:
    arch = station("100/s", exp("100ms"), workers=12, duration="400s", warmup="20s")
    assert_inside(run_latency(arch, 10), mmc_w(12, 100, 10), 0.03)


def test_md1() -> None:
    arch = station("0.8/s", "1s", duration="25000s", warmup="500s")
    assert_inside(run_latency(arch, 10), 3.0, 0.08)


@pytest.mark.slow
def test_mg1_hyperexponential_scv4() -> None:
    work = {"type": "hyperexponential", "mean": "1s", "scv": 4}
    arch = station("0.5/s", work, duration="200000s", warmup="2000s")
    assert_inside(run_latency(arch, 10), 3.5, 0.08)


def test_m_erlang4_1_pollaczek_khinchine() -> None:
    mean, k = 0.2, 4
    arch = station(
        "4/s", {"type": "erlang", "k": k, "mean": "200ms"}, duration="5000s", warmup="100s"
    )
    assert_inside(run_latency(arch, 10), pk_w(4, mean, mean**2 * (1 + 1 / k)), 0.05)


def test_m_uniform_1_pollaczek_khinchine() -> None:
    lo, hi = 0.1, 0.3
    second = (hi - lo) ** 2 / 12 + ((lo + hi) / 2) ** 2
    arch = station("3/s", {"type": "uniform", "min": "100ms", "max": "300ms"}, duration="5000s")
    assert_inside(run_latency(arch, 10), pk_w(3, 0.2, second), 0.05)


def test_tandem_of_async_services() -> None:
    arch = architecture(
        {
            "a": service(exp("166.6667ms"), concurrency="async", steps=[{"call": "b.e"}]),
            "b": service(exp("200ms"), concurrency="async"),
        },
        poisson("4/s", "a.e"),
        duration="5000s",
        warmup="100s",
    )
    est = run_latency(arch, 10)
    assert_inside(est, 1 / (6 - 4) + 1 / (5 - 4), 0.06)


def test_mmck_blocking_probability() -> None:
    c, k, lam, mu = 2, 5, 3.0, 1.0
    a = lam / mu
    terms = [a**n / math.factorial(n) for n in range(c)]
    terms += [a**n / (math.factorial(c) * c ** (n - c)) for n in range(c, k + 1)]
    blocking = terms[-1] / sum(terms)
    arch = station("3/s", exp("1s"), workers=c, queueCapacity=k - c, duration="4000s", warmup="50s")
    result = simulate(arch, replications=10, seed=5)
    shares = [r.report.totals.errors["rejected"] / r.report.totals.count for r in result.runs]
    assert_inside(estimate(shares), blocking, 0.05)


def test_littles_law_on_every_entry() -> None:
    arch = station("2/s", exp("1s"), workers=3, duration="3000s", warmup="100s")
    result = simulate(arch, replications=8, seed=7)
    gaps = []
    for run in result.runs:
        e = run.report.totals
        assert e.latency.mean is not None
        gaps.append(e.in_flight_mean - e.throughput * e.latency.mean)
    gap = estimate(gaps)
    assert gap.contains(0.0), gap
    assert gap.half_width is not None and gap.half_width < 0.02 * 2.889


def mva(users: int, think: float, demands: list[float]) -> tuple[float, float]:
    """Exact mean value analysis: (throughput, response time) of a closed product-form network."""
    queue = [0.0] * len(demands)
    x = r = 0.0
    for n in range(1, users + 1):
        resid = [d * (1 + q) for d, q in zip(demands, queue, strict=True)]
        r = sum(resid)
        x = n / (think + r)
        queue = [x * t for t in resid]
    return x, r


def test_closed_loop_against_mean_value_analysis() -> None:
    arch = architecture(
        {
            "a": service(exp("100ms"), concurrency="async", steps=[{"call": "b.e"}]),
            "b": service(exp("50ms"), concurrency="async"),
        },
        {"users": {"users": 8, "thinkTime": exp("1s"), "mix": [{"endpoint": "a.e"}]}},
        duration="3000s",
        warmup="100s",
    )
    x, r = mva(8, 1.0, [0.1, 0.05])
    result = simulate(arch, replications=10, seed=13)
    assert_inside(result.summary.totals.throughput, x, 0.03)
    assert_inside(result.summary.totals.latency.mean, r, 0.05)  # type: ignore[arg-type]


def test_single_run_interval_covers_the_mm1_mean() -> None:
    """60 seeded single runs of M/M/1 at 62.5 % load, 1000 s each: the 95 % batch-means
    interval of each must hold W = 1/(μ − λ) = 1/3 s in a share whose own 95 % Wilson interval
    includes 0.95 (the long study, at 62.5 % and 90 % load, is benchmarks/coverage.py)."""
    arch = station("5/s", exp("125ms"), duration="1000s")
    result = simulate(arch, replications=60, seed=41)
    hits = total = 0
    for run in result.runs:
        sums, counts = latency_windows(run.series, 0.0)["s.e"]
        est = batch_means(sums, counts)
        if est.half_width is not None:
            total += 1
            hits += est.contains(1 / 3)
    assert total >= 55, "a 1000 s run at 62.5 % load is long enough for an interval"
    z = 1.959964
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    assert centre - half <= 0.95 <= centre + half, f"coverage {hits}/{total}"
