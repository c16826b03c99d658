"""A cache's real hit ratio (scraped from the services' counters) beside the simulated one."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.calibrate.compare import compare_results, format_error, format_figure
from scalesim_patterns.calibrate.scrape import Scraper


def _calls(**by_service: dict[str, float]) -> dict[tuple[str, str], float]:
    """What one read of every service's /metrics leaves: counters summed over services."""
    out: dict[tuple[str, str], float] = {}
    for counters in by_service.values():
        for outcome, value in counters.items():
            key = ("@cache:pc", outcome)
            out[key] = out.get(key, 0.0) + value
    return out


def test_cache_hit_ratio_over_the_measured_span_and_its_row() -> None:
    scraper = Scraper.__new__(Scraper)  # no system needed to read recorded samples
    scraper.warmup = 10.0
    scraper.samples = [
        (5.0, {}, _calls(a={"hit": 50, "miss": 50})),
        (10.0, {}, _calls(a={"hit": 100, "miss": 100}, b={"hit": 0, "miss": 10})),
        (70.0, {}, _calls(a={"hit": 700, "miss": 400}, b={"hit": 30, "miss": 40, "error": 20})),
    ]
    figures = scraper.cache_figures()
    # after the warm-up: hits 600 + 30, lookups (600 + 300) + (30 + 30 + 20) = 980
    assert figures["pc"].lookups == 980
    assert figures["pc"].hit_ratio == pytest.approx(630 / 980)
    assert scraper.figures() == {}  # cache counters are not clients
    sim_runs: list[dict[str, Any]] = [
        {"caches": {"pc": {"lookups": 1000.0, "hits": 700.0}}},
        {"caches": {"pc": {"lookups": 1000.0, "hits": 600.0}}},
    ]
    simulated = {"summary": {"entries": {}}, "runs": sim_runs}
    real: dict[str, Any] = {"runs": [{"report": {"entries": {}}}]}
    (row,) = compare_results(real, simulated, None, figures).rows
    assert (row.entry, row.figure) == ("cache pc", "hit_ratio")
    assert row.simulated == pytest.approx(0.65)  # 1300 hits of 2000 lookups
    # 0.6429 of 980: Wilson 95 % half-width about 0.030, so +0.71 pp is within it
    assert row.error == pytest.approx(0.65 - 630 / 980)
    assert row.within is True
    assert format_figure("hit_ratio", 0.65) == "65.00%"
    assert format_error("hit_ratio", row.error) == "+0.71 pp"
