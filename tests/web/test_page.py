"""The page at `/`: the build's files, the SPA fallback, and the message page without a build."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from scalesim_patterns.web import Settings, create_app


def test_built_page_is_served_with_spa_fallback(settings: Settings, tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<html>the page</html>")
    (static / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("no")
    with TestClient(create_app(replace(settings, static_dir=static))) as c:
        assert c.get("/").text == "<html>the page</html>"
        js = c.get("/assets/app.js")
        assert js.text == "console.log(1)" and "javascript" in js.headers["content-type"]
        assert c.get("/architectures/3/runs").text == "<html>the page</html>"  # page routes
        assert c.get("/assets/missing.js").status_code == 404
        assert c.get("/../secret.txt").status_code == 404
        assert c.get("/%2e%2e/secret.txt").status_code == 404
        r = c.get("/api/unknown")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_message_page_without_a_build(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(replace(settings, static_dir=tmp_path / "none"))) as c:
        r = c.get("/")
        assert r.status_code == 200 and "has not been built" in r.text and "/docs" in r.text
        assert c.get("/docs").status_code == 200
        assert c.get("/openapi.json").json()["info"]["title"] == "ScaleSim Patterns"
