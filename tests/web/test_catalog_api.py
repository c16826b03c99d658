"""Catalog, schema, info, limits and health routes against the library they serve."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from scalesim_patterns import catalog
from scalesim_patterns.model import json_schema
from scalesim_patterns.web import Settings, create_app


def test_catalog_lists_every_group_pattern_and_template(client: TestClient) -> None:
    body = client.get("/api/catalog").json()
    assert [g["id"] for g in body["groups"]] == [g.id for g in catalog.groups()]
    ids = [p["id"] for g in body["groups"] for p in g["patterns"]]
    assert ids == [p.id for p in catalog.patterns()]
    assert len(ids) == 12
    assert [t["id"] for t in body["templates"]] == [t.id for t in catalog.templates()]
    assert all("path" not in t for t in body["templates"])  # no disk path leaks out


def test_pattern_page_has_entry_and_the_cli_topology(client: TestClient) -> None:
    body = client.get("/api/catalog/patterns/saga").json()
    assert body["pattern"] == catalog.pattern("saga").model_dump(mode="json")
    expected = json.loads(catalog.render_json(catalog.pattern_topology("saga")))
    assert body["topology"] == expected
    assert body["topology"]["nodes"] and body["topology"]["edges"]


def test_unknown_pattern_is_404_with_did_you_mean(client: TestClient) -> None:
    r = client.get("/api/catalog/patterns/sagga")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "saga" in r.json()["error"]["message"]


def test_template_page_has_text_as_shipped(client: TestClient) -> None:
    body = client.get("/api/catalog/templates/circuit-breaker").json()
    assert body["text"] == catalog.template_text("circuit-breaker")
    assert body["template"]["id"] == "circuit-breaker"
    assert "service:checkout" in {n["id"] for n in body["topology"]["nodes"]}
    r = client.get("/api/catalog/templates/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_schema_is_the_model_schema(client: TestClient) -> None:
    assert client.get("/api/schema").json() == json_schema()


def test_info_limits_health(client: TestClient) -> None:
    info = client.get("/api/info").json()
    assert info["store"] == "sqlite" and info["workers"] == 2 and info["token_required"] is False
    limits = client.get("/api/limits").json()
    assert limits["replications"] == 20 and limits["queue"] == 64
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["store"] == "sqlite"


def test_the_catalog_is_read_when_the_server_starts(settings: Settings) -> None:
    """The first GET /api/catalog must not pay for reading the catalog's files."""
    from scalesim_patterns.catalog import store as catalog_store

    catalog_store.catalog.cache_clear()
    app = create_app(settings)
    assert catalog_store.catalog.cache_info().currsize == 0
    with TestClient(app):
        assert catalog_store.catalog.cache_info().currsize == 1  # before any request
