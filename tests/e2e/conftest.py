"""End-to-end tests of the page in Debian's Chromium, driven by pytest-playwright.

A session fixture starts `scalesim serve` on a free loopback port with a fresh SQLite store and
the built page; the browser is the system's `chromium` (installed by `make test`), never a
downloaded one. Screenshots of every step go to build/e2e/ (gitignored), as test artefacts.
Without Chromium, Playwright or the built page the tests skip with the reason, except under CI
(`CI` set), where they fail: a green CI must mean the page was tested.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # reported per test below (skip here, failure under CI)
    pass
else:
    # The suite shares two cores with everything else `make test` runs: wait for the page
    # generously; a real failure still fails, only later.
    expect.set_options(timeout=20_000)

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "src" / "scalesim_patterns" / "web" / "static" / "index.html"
SHOTS = REPO / "build" / "e2e"
VIEWPORT = {"width": 1280, "height": 800}


def _missing() -> str | None:
    if importlib.util.find_spec("pytest_playwright") is None:
        return "pytest-playwright is not installed (pip install -e '.[dev]')"
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed (make chromium)"
    if not PAGE.is_file():
        return "the page is not built (make page)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    # Playwright's sync API keeps an event loop running in the process's main thread for the
    # rest of the session, where a later test's asyncio.run() would fail: browser tests go last
    # (stable sort; with xdist a worker runs nothing else after one of them).
    items.sort(key=lambda item: here in Path(str(item.fspath)).parents)
    reason = _missing()
    if reason is None:
        return
    for item in items:
        if here in Path(str(item.fspath)).parents:
            if os.environ.get("CI"):
                item.add_marker(pytest.mark.usefixtures("_fail_in_ci"))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_in_ci() -> None:
    pytest.fail(f"end-to-end tests cannot run in CI: {_missing()}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": shutil.which("chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": VIEWPORT, "accept_downloads": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `scalesim serve` with its own store; yields its base URL and stops it afterwards."""
    port = _free_port()
    db = tmp_path_factory.mktemp("store") / "store.db"
    log = tmp_path_factory.mktemp("log") / "serve.log"
    scalesim = Path(sys.executable).with_name("scalesim")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(scalesim),
                "serve",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{db}",
                "--workers",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scalesim serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
