"""The CLI's side of the shared store: simulate --save, runs list/show, and serve's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from scalesim_patterns import catalog
from scalesim_patterns.cli.main import cli
from scalesim_patterns.web import create_app

from .conftest import make_settings, stream


@pytest.fixture(autouse=True)
def _commands() -> None:
    from scalesim_patterns.cli import (  # noqa: F401  (register commands)
        catalog_cmds,
        generate_cmds,
        runs_cmds,
        serve_cmds,
        simulate_cmds,
    )


def test_saved_cli_run_is_in_the_web_history(tmp_path: Path, db_url: str) -> None:
    file = tmp_path / "shop.yaml"
    file.write_text(catalog.template_text("ecommerce"))
    out = tmp_path / "r.json"
    runner = CliRunner()
    args = ["simulate", str(file), "--duration", "5s", "--seed", "3", "--jobs", "1"]
    r = runner.invoke(cli, [*args, "--save", "--db", db_url, "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert "saved as run 1" in r.output
    r = runner.invoke(cli, [*args, "--save", "--db", db_url])  # same text: same version
    assert r.exit_code == 0 and "saved as run 2 (shop v1)" in r.output

    listed = runner.invoke(cli, ["runs", "list", "--db", db_url, "--json"])
    runs = json.loads(listed.output)
    assert [x["id"] for x in runs] == [2, 1]
    assert {x["source"] for x in runs} == {"cli"} and {x["state"] for x in runs} == {"done"}
    shown = runner.invoke(cli, ["runs", "show", "1", "--db", db_url, "--json"])
    assert shown.output == out.read_text()  # byte-identical to simulate --json
    text = runner.invoke(cli, ["runs", "show", "1", "--db", db_url])
    assert "run 1: simulate of shop v1" in text.output and "req/s" in text.output
    table = runner.invoke(cli, ["runs", "list", "--db", db_url])
    assert "shop v1" in table.output

    with TestClient(create_app(make_settings(db_url))) as c:
        web_runs = c.get("/api/runs").json()
        assert [x["id"] for x in web_runs] == [2, 1]
        events = stream(c, 1)
        assert [d["state"] for _, k, d in events if k == "state"] == ["queued", "running", "done"]
        assert any(k == "window" for _, k, _ in events)
        assert c.get("/api/runs/1/result").text == out.read_text()
        archs = c.get("/api/architectures").json()
        assert [(a["name"], a["version"]) for a in archs] == [("shop", 1)]


def test_runs_errors_exit_2(db_url: str) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["runs", "show", "9", "--db", db_url])
    assert r.exit_code == 2 and "no run 9" in r.output
    r = runner.invoke(cli, ["runs", "list", "--db", "mysql://x@y/z"])
    assert r.exit_code == 2 and "unsupported store" in r.output
    r = runner.invoke(cli, ["runs", "list", "--db", "postgresql://nobody@127.0.0.1:1/x"])
    assert r.exit_code == 2 and "cannot open the run store" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(cli, ["runs", "list", "--db", db_url])
    assert r.exit_code == 0 and "no runs yet" in r.output


def test_serve_refuses_exposed_bind_without_token(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCALESIM_TOKEN", raising=False)
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--db", db_url])
    assert r.exit_code == 2 and "--token" in r.output
    r = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--token", "short", "--db", db_url])
    assert r.exit_code == 2 and "too short" in r.output
    r = runner.invoke(cli, ["serve", "--db", "postgresql://nobody@127.0.0.1:1/x"])
    assert r.exit_code == 2 and "cannot open the run store" in r.output
