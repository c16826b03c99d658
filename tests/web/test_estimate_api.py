"""`POST /api/estimate`: the estimate of a text, within the server's limits."""

from __future__ import annotations

from fastapi.testclient import TestClient

from scalesim_patterns import catalog
from scalesim_patterns.estimate import estimate
from scalesim_patterns.model import validate_text
from scalesim_patterns.web import Settings, create_app

from .conftest import limited


def test_estimate_of_a_template(client: TestClient) -> None:
    text = catalog.new("ecommerce", [])
    r = client.post("/api/estimate", json={"text": text, "load": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    arch, _ = validate_text(text)
    assert arch is not None
    expected = estimate(arch, load=2.0).to_dict()
    assert body["bottleneck"] == expected["bottleneck"]
    assert (
        body["entries"]["/orders"]["arrival_rate"] == expected["entries"]["/orders"]["arrival_rate"]
    )
    assert body["ignored"] and body["load"] == 2.0


def test_invalid_text_unknown_scenario_and_bad_load(client: TestClient) -> None:
    r = client.post("/api/estimate", json={"text": "a: 1"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_architecture"
    text = catalog.new("ecommerce", [])
    r = client.post("/api/estimate", json={"text": text, "scenario": "nope"})
    assert r.status_code == 422 and "no scenario 'nope'" in r.json()["error"]["message"]
    r = client.post("/api/estimate", json={"text": text, "load": 0})
    assert r.status_code == 422


def test_size_limit_applies(settings: Settings) -> None:
    text = catalog.new("ecommerce", [])
    with TestClient(create_app(limited(settings, file_bytes=1000))) as c:
        r = c.post("/api/estimate", json={"text": text})
    assert r.status_code == 422 and r.json()["error"]["code"] == "limit_exceeded"
