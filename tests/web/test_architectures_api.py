"""Architectures: create from template/text/JSON, versions, rename, delete, diagnostics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from scalesim_patterns import catalog
from scalesim_patterns.model import validate_text
from scalesim_patterns.web import Settings, create_app

from .conftest import create, limited

BROKEN_CALL = "usr.get"


def test_create_from_template_with_sets(client: TestClient) -> None:
    body = create(client, "shop", sets=["services.order.replicas=5"])
    assert body["version"] == 1 and body["latest_version"] == 1 and body["valid"] is True
    assert body["text"] == catalog.new("ecommerce", ["services.order.replicas=5"])
    assert "replicas: 5" in body["text"]
    assert body["services"] == 5 and body["diagnostics"] == []


def test_bad_template_and_bad_set(client: TestClient) -> None:
    r = client.post("/api/architectures", json={"name": "x", "template": "ecomerce"})
    assert r.status_code == 404 and "ecommerce" in r.json()["error"]["message"]
    r = client.post(
        "/api/architectures",
        json={"name": "x", "template": "ecommerce", "sets": ["services.nope.replicas=2"]},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_template"


def test_create_needs_exactly_one_source(client: TestClient) -> None:
    r = client.post("/api/architectures", json={"name": "x"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = client.post("/api/architectures", json={"name": "x", "text": "a: 1", "template": "saga"})
    assert r.status_code == 422
    r = client.post("/api/architectures", json={"name": "bad name/../x", "text": "a: 1"})
    assert r.status_code == 422 and "name" in r.json()["error"]["message"]


def test_invalid_text_is_stored_with_located_diagnostics(client: TestClient) -> None:
    text = catalog.template_text("ecommerce").replace("call: user.get", f"call: {BROKEN_CALL}", 1)
    assert text != catalog.template_text("ecommerce")
    body = client.post("/api/architectures", json={"name": "broken", "text": text}).json()
    assert body["valid"] is False
    _, expected = validate_text(text, "broken.yaml")
    assert body["diagnostics"] == [d.to_dict() for d in expected]
    error = next(d for d in body["diagnostics"] if d["severity"] == "error")
    assert error["line"] > 1 and error["column"] >= 1 and error["path"].startswith("spec.")
    assert "did you mean" in error["message"]


def test_validate_without_saving(client: TestClient) -> None:
    good = client.post("/api/validate", json={"text": catalog.template_text("saga")}).json()
    assert good["valid"] is True and good["topology"]["nodes"]
    bad = client.post("/api/validate", json={"text": "apiVersion: [\n"}).json()
    assert bad["valid"] is False and bad["topology"] is None and bad["diagnostics"][0]["line"] >= 1
    assert client.get("/api/architectures").json() == []


def test_json_document_is_stored_as_yaml(client: TestClient) -> None:
    arch = catalog.template_architecture("saga")
    doc = arch.model_dump(mode="json", by_alias=True, exclude_none=True)
    r = client.post("/api/architectures", json={"name": "saga-json", "document": doc})
    body = r.json()
    assert r.status_code == 201, body
    assert body["valid"] is True, body["diagnostics"]
    assert body["text"].startswith("apiVersion:")


def test_versions_update_rename_delete(client: TestClient) -> None:
    a = create(client, "shop")
    text2 = a["text"].replace("replicas: 3", "replicas: 4", 1)
    assert text2 != a["text"]
    r = client.put(f"/api/architectures/{a['id']}", json={"text": text2})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["text"] == text2
    # the same text again stores no new version
    assert client.put(f"/api/architectures/{a['id']}", json={"text": text2}).json()["version"] == 2
    versions = client.get(f"/api/architectures/{a['id']}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["bytes"] == len(a["text"].encode())
    v1 = client.get(f"/api/architectures/{a['id']}/versions/1").json()
    assert v1["text"] == a["text"] and v1["latest_version"] == 2
    r = client.get(f"/api/architectures/{a['id']}/versions/3")
    assert r.status_code == 404 and "versions 1 to 2" in r.json()["error"]["message"]
    topo = client.get(f"/api/architectures/{a['id']}/versions/2/topology").json()
    assert topo["nodes"]
    # rename; a taken name is a conflict
    create(client, "other", template="saga")
    assert (
        client.patch(f"/api/architectures/{a['id']}", json={"name": "shop2"}).json()["name"]
        == "shop2"
    )
    r = client.patch(f"/api/architectures/{a['id']}", json={"name": "other"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    listed = client.get("/api/architectures").json()
    assert {x["name"] for x in listed} == {"shop2", "other"}
    assert client.delete(f"/api/architectures/{a['id']}").status_code == 204
    assert client.get(f"/api/architectures/{a['id']}").status_code == 404
    assert client.delete(f"/api/architectures/{a['id']}").status_code == 404


def test_duplicate_name_is_409(client: TestClient) -> None:
    create(client, "dup")
    r = client.post("/api/architectures", json={"name": "dup", "template": "saga"})
    assert r.status_code == 409 and "dup" in r.json()["error"]["message"]


def test_missing_ids_are_404(client: TestClient) -> None:
    for path in (
        "/api/architectures/99",
        "/api/architectures/99/versions",
        "/api/architectures/99/versions/1",
        "/api/architectures/99/versions/1/topology",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"
    assert client.put("/api/architectures/99", json={"text": "x"}).status_code == 404
    assert client.patch("/api/architectures/99", json={"name": "y"}).status_code == 404
    assert client.get("/api/architectures/0").status_code == 422


def test_topology_of_invalid_version_is_422(client: TestClient) -> None:
    body = client.post("/api/architectures", json={"name": "bad", "text": "kind: Nope\n"}).json()
    r = client.get(f"/api/architectures/{body['id']}/versions/1/topology")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_architecture"
    assert r.json()["error"]["details"]["diagnostics"]


def test_file_and_size_limits(settings: Settings) -> None:
    text = catalog.template_text("ecommerce")
    with TestClient(create_app(limited(settings, file_bytes=1000, services=3))) as c:
        r = c.post("/api/architectures", json={"name": "big", "text": text})
        err = r.json()["error"]
        assert r.status_code == 422 and err["code"] == "limit_exceeded"
        assert err["details"] == {
            "limit": "file_bytes",
            "value": len(text.encode()),
            "maximum": 1000,
        }
        assert "file_bytes" in err["message"]
        small = catalog.template_text("circuit-breaker")
    with TestClient(create_app(limited(settings, services=1))) as c:
        r = c.post("/api/architectures", json={"name": "many", "text": small})
        assert r.status_code == 422 and r.json()["error"]["details"]["limit"] == "services"
