"""Generator output for the architecture language's newer constructs: named Kong consumers."""

from __future__ import annotations

from pathlib import Path

from scalesim_patterns.generate import generate
from scalesim_patterns.model import load

from .helpers import of_kind
from .test_valid import _lint, _schema_errors

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "shop-sessions.yaml"


def test_each_consumer_gets_a_kong_consumer_with_its_own_limit(tmp_path: Path) -> None:
    files = generate(load(EXAMPLE))
    consumers = {c["username"]: c for c in of_kind(files, "KongConsumer")}
    assert {"storefront", "partner-feed"} <= set(consumers)
    partner = consumers["partner-feed"]
    plugin_name = partner["metadata"]["annotations"]["konghq.com/plugins"]
    (plugin,) = [p for p in of_kind(files, "KongPlugin") if p["metadata"]["name"] == plugin_name]
    assert plugin["plugin"] == "rate-limiting"
    assert plugin["config"] == {"second": 50, "policy": "cluster"}
    assert "konghq.com/plugins" not in consumers["storefront"]["metadata"]["annotations"]
    secrets = {s["metadata"]["name"] for s in of_kind(files, "Secret")}
    assert set(partner["credentials"]) <= secrets
    assert _schema_errors(files) == []
    assert _lint(files, tmp_path) == []
