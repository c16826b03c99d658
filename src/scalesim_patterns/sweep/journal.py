"""What a sweep has finished, kept as it goes so Ctrl-C or a crash loses nothing done.

One JSON line per finished task after a header naming the sweep (a digest of the file, the plan
and the settings). `--resume` reads it back, refuses a journal of another sweep, and runs only
what is missing. A capacity search keeps one the same way, a line per evaluated candidate
(capacity.py), keyed by its own `key`. Each line is flushed and fsynced before the next result is taken, so a line is
either whole or (cut by a crash mid-write) ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["Journal", "JournalError", "digest", "task_key"]

JOURNAL = "sweep.jsonl"


class JournalError(ValueError):
    """The journal cannot be resumed (missing, of another sweep)."""


def digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def task_key(row: dict[str, Any]) -> str:
    """A sweep row's key: its point and replication."""
    return f"{row['point']}:{row['replication']}"


SWEEP_DIFFERS = "a different file, --vary, --sample, seed, duration or replications"


class Journal:
    """Rows keyed by `key`, after a header `{kind: sweep_id}`; `differs` says, in the refusal
    of a journal with another id, what makes two runs different."""

    def __init__(
        self,
        folder: Path,
        sweep_id: str,
        *,
        name: str = JOURNAL,
        key: Callable[[dict[str, Any]], str] = task_key,
        kind: str = "sweep",
        differs: str = SWEEP_DIFFERS,
    ) -> None:
        self.path = folder / name
        self.sweep_id = sweep_id
        self.key = key
        self.kind = kind
        self.differs = differs
        self.rows: dict[str, dict[str, Any]] = {}
        self._fh: IO[str] | None = None

    def start(self, *, resume: bool) -> None:
        """Open for appending: fresh, or (resume) after reading what is already there."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume:
            if not self.path.exists():
                raise JournalError(f"nothing to resume: {self.path} does not exist")
            self._read()
            self._fh = self.path.open("a", encoding="utf-8")
            return
        self._fh = self.path.open("w", encoding="utf-8")
        self._write({self.kind: self.sweep_id})

    def _read(self) -> None:
        with self.path.open(encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        try:
            header = json.loads(lines[0])
        except (json.JSONDecodeError, IndexError):
            raise JournalError(f"{self.path} is not a {self.kind} journal") from None
        if not isinstance(header, dict) or header.get(self.kind) != self.sweep_id:
            raise JournalError(
                f"{self.path} belongs to another {self.kind} ({self.differs}); "
                "run without --resume and with --force to start over"
            )
        for line in lines[1:]:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: that task runs again
            self.rows[self.key(row)] = row
        if lines[-1]:
            # a cut last line: start the next one on a line of its own
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("\n")

    def _write(self, obj: dict[str, Any]) -> None:
        assert self._fh is not None
        self._fh.write(json.dumps(obj, sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def add(self, row: dict[str, Any]) -> bool:
        """Record a finished task; False when it was already there (a retried duplicate)."""
        key = self.key(row)
        if key in self.rows:
            return False
        self.rows[key] = row
        self._write(row)
        return True

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
