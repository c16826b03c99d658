"""The run view's result sections, in a real browser: an architecture that has them all (CPU,
a cache, sessions, per-consumer limits, a per-tenant bulkhead, traces, the brief's figures,
scheduled changes) is run under its `scale-up` scenario, and each section is drawn with the
figures of the run's own result (read back from the API, so the page is checked against the
server, not against itself)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

if not os.environ.get("CI"):  # under CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect

HERE = Path(__file__).parent
RUN_TIMEOUT = 120_000


def test_result_sections(page: Page, server: str, shots: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    created = page.request.post(
        f"{server}/api/architectures",
        data={"name": "sections", "text": (HERE / "sections.yaml").read_text()},
    )
    assert created.status == 201, created.text()
    arch = created.json()
    page.goto(f"{server}/#/designer/{arch['id']}")
    expect(page.get_by_test_id("validity")).to_have_text("valid")
    page.get_by_test_id("run-scenario").select_option("scale-up")
    page.get_by_test_id("run-start").click()
    expect(page).to_have_url(re.compile(r"#/runs/\d+"))
    run_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("run-state")).to_have_text("done", timeout=RUN_TIMEOUT)
    result = page.request.get(f"{server}/api/runs/{run_id}/result").json()
    run = result["runs"][0]

    brief = page.get_by_test_id("brief-figures")
    expect(brief).to_contain_text("gateway-added latency p99")
    expect(brief.locator("tbody tr")).to_have_count(len(result["brief"]))

    cpu = page.get_by_test_id("cpu-usage")
    for service, figures in run["cpu"].items():
        row = cpu.locator("tr", has_text=service)
        expect(row).to_contain_text(f"{figures['utilisation'] * 100:.1f}%")

    cache = run["caches"]["product-cache"]
    expect(page.get_by_test_id("cache-hits")).to_contain_text(f"{cache['hit_ratio'] * 100:.1f}%")
    expect(page.get_by_test_id("chart-cache-hit-ratio")).to_have_attribute(
        "data-points", str(len(run["timeseries"]["time"]))
    )

    sessions = run["sessions"]["shoppers"]
    expect(page.get_by_test_id("session-steps")).to_contain_text(
        f"{sessions['started']:,} started, {sessions['completed']:,} completed"
    )

    (limit,) = [
        r for r in run["resilience"]["rate_limits"] if r["scope"] == "consumer partner-feed"
    ]
    limits = page.get_by_test_id("consumer-limits")
    expect(limits.locator("tr", has_text="consumer partner-feed")).to_contain_text(
        f"{limit['rejected']:,}"
    )
    expect(limits).to_contain_text("legacy->recommender")

    changes = page.get_by_test_id("scheduled-changes")
    expect(changes.locator("li")).to_have_count(len(run["changes"]["log"]))
    expect(changes).to_contain_text("replicas 2 -> 4")
    expect(page.get_by_test_id("chart-route-share-GET /products")).not_to_have_attribute(
        "data-points", "0"
    )

    expect(page.get_by_test_id("critical-path")).to_contain_text("p99")
    # the analytic estimate of the same version and scenario, beside the simulated figures
    versus = page.get_by_test_id("estimate-vs-measured")
    utilisation = result["summary"]["services"]["legacy"]["utilisation"]["mean"]
    expect(versus.locator("tr", has_text="legacy")).to_contain_text(f"{utilisation * 100:.1f}%")
    page.get_by_test_id("brief-figures").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "sections-run.png"))
    page.get_by_test_id("critical-path").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "sections-run-2.png"))
    assert errors == [], errors[0]
