"""The command line imports a command's module only when that command runs (start-up cost)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

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
