"""Token, same-origin writes, body limit, and JSON errors everywhere (no traceback)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from scalesim_patterns.web import Settings, create_app

from .conftest import create, limited, start, wait

TOKEN = "0123456789abcdef0123"


def test_token_is_checked_on_api_and_stream(settings: Settings) -> None:
    with TestClient(create_app(replace(settings, token=TOKEN))) as c:
        r = c.get("/api/catalog")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert c.get("/api/catalog", headers={"Authorization": "Bearer wrong"}).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert c.get("/api/catalog", headers=auth).status_code == 200
        assert c.get("/api/info", headers=auth).json()["token_required"] is True
        # a token in the query string is taken only where a browser cannot send headers
        assert c.get("/api/catalog", params={"token": TOKEN}).status_code == 401
        c.headers.update(auth)
        arch = create(c)
        run = start(c, arch["id"], duration="3s")
        wait(c, run["id"])
        del c.headers["Authorization"]
        assert c.get(f"/api/runs/{run['id']}/events").status_code == 401
        ok = c.get(f"/api/runs/{run['id']}/events", params={"token": TOKEN})
        assert ok.status_code == 200 and "event: state" in ok.text
        # health and the page need no token
        assert c.get("/healthz").status_code == 200
        assert c.get("/").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_cross_origin_writes_are_refused(client: TestClient, method: str) -> None:
    r = client.request(
        method.upper(),
        "/api/architectures/1" if method != "post" else "/api/architectures",
        json={"name": "x", "template": "saga"} if method != "delete" else None,
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert r.json()["error"] == {
        "code": "cross_origin",
        "message": r.json()["error"]["message"],
        "details": {"origin": "https://evil.example"},
    }
    assert client.get("/api/architectures").json() == []


def test_same_origin_and_allowed_origin_may_write(settings: Settings) -> None:
    with TestClient(create_app(replace(settings, allowed_origins=("http://localhost:5173",)))) as c:
        own = c.post(
            "/api/architectures",
            json={"name": "a", "template": "saga"},
            headers={"Origin": "http://testserver"},
        )
        assert own.status_code == 201
        dev = c.post(
            "/api/architectures",
            json={"name": "b", "template": "saga"},
            headers={"Origin": "http://localhost:5173"},
        )
        assert dev.status_code == 201
        r = c.post(
            "/api/architectures",
            json={"name": "c", "template": "saga"},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert r.status_code == 403
        # reads from anywhere are fine (no data leaves without the token when one is set)
        assert (
            c.get("/api/architectures", headers={"Origin": "https://x.example"}).status_code == 200
        )


def test_body_limit(settings: Settings) -> None:
    with TestClient(create_app(limited(settings, body_bytes=2000))) as c:
        big = "x" * 5000
        r = c.post("/api/validate", json={"text": big})
        err = r.json()["error"]
        assert r.status_code == 413 and err["code"] == "body_too_large"
        assert err["details"]["limit"] == "body_bytes" and err["details"]["maximum"] == 2000
        assert err["details"]["value"] > 5000

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(10):
                yield b"x" * 500

        r = c.post("/api/validate", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert c.post("/api/validate", json={"text": "a: 1"}).status_code == 200


def test_errors_are_json(client: TestClient) -> None:
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.delete("/api/catalog")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = client.post(
        "/api/architectures", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    r = client.post(
        "/api/architectures", content=b"[1, 2]", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["errors"]


def test_a_bug_is_a_json_500_without_traceback(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scalesim_patterns import catalog

    def boom() -> None:
        raise RuntimeError("secret internals /etc/x")

    monkeypatch.setattr(catalog, "groups", boom)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        r = c.get("/api/catalog")
    assert r.status_code == 500
    assert r.json() == {
        "error": {
            "code": "internal",
            "message": "internal server error; the server log has the details",
            "details": {},
        }
    }
    assert "secret" not in r.text and "Traceback" not in r.text
