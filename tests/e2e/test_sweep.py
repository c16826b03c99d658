"""Live estimate while editing, and a sweep from the designer, in a real browser.

The designer shows the analytic estimate of the text as it is edited (checked against `POST
/api/estimate` for the same text); a sweep with a typo is refused on its line; a 2 × 2 sweep runs,
fills its table as points finish, and ends with lines, a heat map and the sensitivity summary whose
figures are the stored result's; history lists it beside runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

if not os.environ.get("CI"):  # under CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect

RUN_TIMEOUT = 120_000


def test_estimate_and_sweep(page: Page, server: str, shots: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    created = page.request.post(
        f"{server}/api/architectures", data={"name": "cb-sweep", "template": "circuit-breaker"}
    )
    assert created.status == 201, created.text()
    arch = created.json()
    page.goto(f"{server}/#/designer/{arch['id']}")

    # The estimate of the file as shipped, then of the edited text: the page shows the server's
    # figures for whatever is in the editor, without saving.
    estimate = page.get_by_test_id("estimate")
    expected = page.request.post(f"{server}/api/estimate", data={"text": arch["text"]}).json()
    busiest = expected["stations"][expected["bottleneck"]]["utilisation"]
    expect(estimate).to_contain_text(f"bottleneck {expected['bottleneck']}")
    expect(page.get_by_test_id("estimate-utilisation")).to_contain_text(
        f"{expected['bottleneck']} {round(busiest * 100)}%"
    )
    page.get_by_test_id("node-service:checkout").click()
    page.locator("#field-spec_services_checkout_replicas").fill("1")
    edited = page.request.post(
        f"{server}/api/estimate",
        data={"text": arch["text"].replace("replicas: 3", "replicas: 1", 1)},
    ).json()
    assert edited["stations"]["checkout"]["utilisation"] > busiest * 2.5
    expect(page.get_by_test_id("estimate-utilisation")).to_contain_text(
        f"checkout {round(edited['stations']['checkout']['utilisation'] * 100)}%"
    )
    page.screenshot(path=str(shots / "estimate-live.png"))

    # A sweep with a typo in its second line: refused, on that line, with the did-you-mean.
    page.get_by_test_id("open-sweep").click()
    expect(page).to_have_url(re.compile(r"#/sweeps/new/\d+"))
    vary = page.get_by_test_id("sweep-vary")
    vary.fill("services.checkout.replicas=1,3\ntraffic.shopers.arrival.rate=100/s,300/s")
    page.get_by_test_id("sweep-duration").fill("10s")
    page.get_by_test_id("sweep-start").click()
    expect(page.get_by_test_id("sweep-error")).to_contain_text("did you mean 'shoppers'")
    expect(page.get_by_test_id("sweep-bad-line")).to_contain_text("line 2")
    page.screenshot(path=str(shots / "sweep-refused.png"))

    vary.fill("services.checkout.replicas=1,3\ntraffic.shoppers.arrival.rate=100/s,300/s")
    page.get_by_test_id("sweep-start").click()
    expect(page).to_have_url(re.compile(r"#/sweeps/\d+$"))
    sweep_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("sweep-progress")).to_contain_text("of 4 simulations")
    expect(page.get_by_test_id("sweep-state")).to_have_text("done", timeout=RUN_TIMEOUT)
    result = page.request.get(f"{server}/api/runs/{sweep_id}/result").json()

    table = page.get_by_test_id("sweep-table")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(page.get_by_test_id("chart-sweep-p99")).to_have_attribute("data-points", "2")
    # Both swept values are labelled on the x axes (the chart, made when the first points
    # finished, labelled "1" alone): what the axis drew, published beside its points.
    for chart in ("sweep-p99", "sweep-throughput"):
        drawn = page.evaluate(f"window.__scalesim.charts[{chart!r}].xLabels")
        assert drawn == ["1", "3"], (chart, drawn)
    heat = page.get_by_test_id("sweep-heatmap")
    expect(heat.locator("td")).to_have_count(4)
    rows = {
        (r["services.checkout.replicas"], r["traffic.shoppers.arrival.rate"]): r
        for r in result["rows"]
    }
    # the cell at 1 replica, 300/s is that point's p99 (one replication), as the page writes it
    cell = heat.locator("tr", has_text="300/s").locator("td").first
    expect(cell).to_have_attribute("data-value", str(rows[("1", "300/s")]["p99"]))
    sens = page.get_by_test_id("sensitivity")
    strongest = max(result["sensitivity"]["throughput"].items(), key=lambda kv: kv[1])
    assert strongest[0] == "traffic.shoppers.arrival.rate"  # the load moves the throughput
    expect(sens.locator("tr", has_text="throughput").first).to_contain_text(strongest[0])
    page.screenshot(path=str(shots / "sweep-done.png"), full_page=True)

    page.goto(f"{server}/#/history")
    link = page.get_by_test_id(f"history-run-{sweep_id}")
    expect(link).to_contain_text("sweep")
    link.click()
    expect(page.get_by_test_id("sweep-table").locator("tbody tr")).to_have_count(4)
    assert errors == [], errors[0]
