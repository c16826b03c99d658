"""Node positions kept with an architecture: stored, read back after a restart, bounded,
validated, and dropped for nodes the architecture does not have."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from scalesim_patterns import catalog
from scalesim_patterns.web import Settings, create_app
from scalesim_patterns.web.store import Store

from .conftest import create, limited


def _ids() -> list[str]:
    return [n.id for n in catalog.topology(catalog.template_architecture("ecommerce")).nodes]


def test_a_new_architecture_has_no_layout(client: TestClient) -> None:
    arch = create(client)
    r = client.get(f"/api/architectures/{arch['id']}/layout")
    assert r.status_code == 200
    assert r.json() == {"positions": {}, "ignored": []}


def test_positions_are_kept_and_survive_a_restart(settings: Settings) -> None:
    ids = _ids()
    assert "service:order" in ids and "gateway:gateway" in ids
    positions = {node: {"x": 10.5 * i, "y": -3.25 * i} for i, node in enumerate(ids)}
    with TestClient(create_app(settings)) as client:
        arch = create(client)
        r = client.put(f"/api/architectures/{arch['id']}/layout", json={"positions": positions})
        assert r.status_code == 200, r.text
        assert r.json() == {"positions": positions, "ignored": []}
        moved = {**positions, "service:order": {"x": 999.0, "y": 1.0}}
        r = client.put(f"/api/architectures/{arch['id']}/layout", json={"positions": moved})
        assert r.status_code == 200
    with TestClient(create_app(settings)) as client:  # a new server on the same store
        r = client.get(f"/api/architectures/{arch['id']}/layout")
        assert r.status_code == 200
        assert r.json()["positions"] == moved
        # not versioned: the architecture is still at version 1
        assert client.get(f"/api/architectures/{arch['id']}").json()["latest_version"] == 1


def test_names_the_architecture_lacks_are_ignored(client: TestClient) -> None:
    arch = create(client)
    body = {
        "positions": {
            "service:order": {"x": 1, "y": 2},
            "service:no-such-service": {"x": 3, "y": 4},
            "database:ghost": {"x": 5, "y": 6},
        }
    }
    r = client.put(f"/api/architectures/{arch['id']}/layout", json=body)
    assert r.status_code == 200
    assert r.json() == {
        "positions": {"service:order": {"x": 1.0, "y": 2.0}},
        "ignored": ["database:ghost", "service:no-such-service"],
    }
    got = client.get(f"/api/architectures/{arch['id']}/layout").json()
    assert got["positions"] == {"service:order": {"x": 1.0, "y": 2.0}}


def test_an_invalid_latest_version_keeps_every_well_formed_id(client: TestClient) -> None:
    r = client.post("/api/architectures", json={"name": "broken", "text": "kind: nonsense\n"})
    assert r.status_code == 201 and r.json()["valid"] is False
    body = {"positions": {"service:later": {"x": 1, "y": 2}}}
    r = client.put(f"/api/architectures/{r.json()['id']}/layout", json=body)
    assert r.status_code == 200 and r.json()["positions"] == {"service:later": {"x": 1.0, "y": 2.0}}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"positions": {"service:order": {"x": NaN, "y": 0}}}', "NaN"),
        ('{"positions": {"service:order": {"x": Infinity, "y": 0}}}', "infinite"),
        ('{"positions": {"service:order": {"x": 1e12, "y": 0}}}', "too far"),
        ('{"positions": {"service:order": {"x": "1", "y": 0}}}', "a string"),
        ('{"positions": {"service:order": {"x": 1}}}', "no y"),
        ('{"positions": {"service:order": {"x": 1, "y": 2, "z": 3}}}', "extra field"),
        ('{"positions": {"order": {"x": 1, "y": 2}}}', "no kind"),
        ('{"positions": {"Service:order": {"x": 1, "y": 2}}}', "bad kind"),
        ('{"positions": {"service:order": {"x": 1, "y": 2}}, "more": 1}', "extra key"),
        ('{"positions": [1, 2]}', "not an object"),
    ],
)
def test_bad_layouts_are_422_and_change_nothing(client: TestClient, content: str, why: str) -> None:
    arch = create(client)
    url = f"/api/architectures/{arch['id']}/layout"
    assert (
        client.put(url, json={"positions": {"service:user": {"x": 7, "y": 7}}}).status_code == 200
    )
    r = client.put(url, content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422, (why, r.text)
    assert r.json()["error"]["message"], why
    assert client.get(url).json()["positions"] == {"service:user": {"x": 7.0, "y": 7.0}}, why


def test_the_count_is_bounded_by_the_size_limit(settings: Settings) -> None:
    with TestClient(create_app(limited(settings, services=2))) as client:
        r = client.post("/api/architectures", json={"name": "tiny", "text": "kind: nonsense\n"})
        url = f"/api/architectures/{r.json()['id']}/layout"
        ok = {f"service:s{i}": {"x": i, "y": i} for i in range(8)}
        assert client.put(url, json={"positions": ok}).status_code == 200
        too_many = {f"service:s{i}": {"x": i, "y": i} for i in range(9)}
        r = client.put(url, json={"positions": too_many})
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "limit_exceeded"
        assert error["details"] == {"limit": "layout_nodes", "value": 9, "maximum": 8}
        assert len(client.get(url).json()["positions"]) == 8


def test_missing_architecture_is_404(client: TestClient) -> None:
    assert client.get("/api/architectures/999/layout").status_code == 404
    r = client.put("/api/architectures/999/layout", json={"positions": {}})
    assert r.status_code == 404 and "999" in r.json()["error"]["message"]


def test_deleting_the_architecture_deletes_its_layout(client: TestClient, db_url: str) -> None:
    arch = create(client)
    url = f"/api/architectures/{arch['id']}/layout"
    assert (
        client.put(url, json={"positions": {"service:order": {"x": 1, "y": 1}}}).status_code == 200
    )
    assert client.delete(f"/api/architectures/{arch['id']}").status_code == 204
    assert client.get(url).status_code == 404
    store = Store.open(db_url)
    try:
        with store.engine.connect() as conn:
            left = conn.execute(sa.text("SELECT count(*) FROM architecture_layouts")).scalar()
        assert left == 0
    finally:
        store.close()
