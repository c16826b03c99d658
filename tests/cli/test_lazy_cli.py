"""The command line imports a command's module only when that command runs (start-up cost)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scalesim_patterns.cli import main as cli_main

HEAVY = (
    "scalesim_patterns.generate",
    "scalesim_patterns.web",
    "scalesim_patterns.calibrate",
    "scalesim_patterns.sim",
    "scalesim_patterns.model",
    "fastapi",
    "sqlalchemy",
)

PROBE = """
import json, sys
from scalesim_patterns.cli.main import cli
args = sys.argv[1:]
try:
    cli.main(args=args, prog_name="scalesim", standalone_mode=True)
except SystemExit:
    pass
watched = ("scalesim_patterns", "fastapi", "sqlalchemy", "multiprocessing", "concurrent")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(watched))), file=sys.stderr)
"""


def _modules_after(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _loaded(modules: list[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_help_imports_nothing_heavy() -> None:
    modules = _modules_after("--help")
    assert "scalesim_patterns.cli.main" in modules
    assert [h for h in HEAVY if _loaded(modules, h)] == []


def test_simulate_imports_only_what_it_runs() -> None:
    modules = _modules_after("simulate", "--help")
    assert _loaded(modules, "scalesim_patterns.sim")
    for heavy in (
        "scalesim_patterns.generate",
        "scalesim_patterns.web",
        "scalesim_patterns.calibrate",
    ):
        assert not _loaded(modules, heavy), heavy
    # The process pool's modules load when a pool starts, not for a serial run.
    assert not _loaded(modules, "multiprocessing") and not _loaded(modules, "concurrent")


def test_command_table_matches_the_commands() -> None:
    """`scalesim --help` lists the same commands, with the same help, as the modules define;
    every command module of the package is in the table (else its commands are unreachable)."""
    folder = Path(cli_main.__file__).parent
    modules = {p.stem for p in folder.glob("*_cmds.py")}
    assert modules == {module for module, _ in cli_main.COMMANDS.values()}
    for module in modules:
        importlib.import_module(f"scalesim_patterns.cli.{module}")
    defined = {name for name, cmd in cli_main.cli.commands.items() if not cmd.hidden}
    assert defined == set(cli_main.COMMANDS) | {"validate", "schema"}
    for name, (module, text) in cli_main.COMMANDS.items():
        cmd = cli_main.cli.commands[name]
        assert cmd.callback is not None and cmd.callback.__module__.endswith(module), name
        first_paragraph = " ".join((cmd.help or "").split("\n\n")[0].split())
        assert text == first_paragraph, name


ENTRY = """
import gc, json, sys
from scalesim_patterns.cli.main import {entry}
try:
    {entry}(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
watched = ("importlib.metadata", "rich.progress", "difflib", "queue", "scalesim_patterns.cli.serve_cmds")
print(json.dumps({{
    "modules": sorted(m for m in sys.modules if m in watched),
    "frozen": gc.get_freeze_count(),
    "collecting": gc.isenabled(),
}}), file=sys.stderr)
"""
"""A command run through `main`, as the `scalesim` console script runs it (or through click's
`cli.main`, as tests and programs that embed the group do)."""


def _entry(*args: str, env: dict[str, str] | None = None, entry: str = "main") -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", ENTRY.format(entry=entry), *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _entry_modules(*args: str, env: dict[str, str] | None = None) -> list[str]:
    return _entry(*args, env=env)["modules"]  # type: ignore[no-any-return]


def _template() -> str:
    from scalesim_patterns import catalog

    return str(catalog.template("ecommerce").path)


def test_simulate_off_a_terminal_loads_no_plugin_scan_and_no_progress_bar() -> None:
    """pydantic's plugin loader imported `importlib.metadata` and read every installed
    distribution's entry points (0.02 s); `rich.progress` drew no bar off a terminal (0.006 s).
    A valid file needs no spelling suggestions (`difflib`), a serial run no queue, and
    `--db` is not the `serve` command's module."""
    args = ("simulate", _template(), "--duration", "1s", "--replications", "1", "--jobs", "1")
    assert _entry_modules(*args) == []


def test_pydantic_disable_plugins_set_leaves_pydantic_its_own_plugin_loader() -> None:
    """Whoever sets the variable (even empty: disable none) has pydantic do as it says."""
    env = {**os.environ, "PYDANTIC_DISABLE_PLUGINS": ""}
    assert _entry_modules("validate", _template(), env=env) == ["importlib.metadata"]


def test_the_stand_in_loader_hands_any_other_name_to_pydantics() -> None:
    code = (
        "from scalesim_patterns.cli.main import main\n"
        "import sys\n"
        "try:\n"
        f"    main(['validate', {_template()!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "from pydantic.plugin import _loader\n"
        "assert list(_loader.get_plugins()) == []\n"
        "print(_loader.PYDANTIC_ENTRY_POINT_GROUP)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "pydantic"


def test_the_scalesim_process_freezes_what_a_command_import_built() -> None:
    """`main` imports the command with the cycle collector off and freezes what is alive
    afterwards; the collector is on again for the run. Through `cli.main` (tests, programs that
    embed the group) nothing is frozen."""
    args = ("estimate", _template())
    by_main = _entry(*args)
    assert by_main["frozen"] > 10_000 and by_main["collecting"]
    by_click = _entry(*args, entry="cli")
    assert by_click["frozen"] == 0 and by_click["collecting"]
