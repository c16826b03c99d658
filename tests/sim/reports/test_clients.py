"""The per-client table says when its row is not every call on the caller->target edge."""

from __future__ import annotations

from rich.console import Console

from scalesim_patterns.cli.report import result_tables
from scalesim_patterns.sim import simulate

from ..models import architecture, poisson, service


def test_a_client_row_counts_only_the_steps_with_a_policy_and_says_so() -> None:
    # frontend calls catalog three times per request; only the second call has a fallback.
    steps = [
        {"call": "catalog.e"},
        {"call": "catalog.e", "fallback": {}},
        {"call": "catalog.e"},
    ]
    arch = architecture(
        {"frontend": service("1ms", workers=8, steps=steps), "catalog": service("1ms", workers=8)},
        poisson("20/s", "frontend.e"),
        duration="20s",
    )
    result = simulate(arch, seed=2)
    client = result.summary.clients["frontend->catalog"]
    assert client.call_sites.mean == 3 and client.counted_sites.mean == 1
    requests = result.summary.totals.count.mean
    assert client.calls.mean == requests  # one fallback-wrapped call per request, not three
    console = Console(width=200, record=True)
    console.print(result_tables(result))
    assert "frontend->catalog (1 of 3 call steps)" in console.export_text()
