"""Reading and writing the store: one class, `Store`, over an SQLAlchemy engine.

Every method opens its own short transaction, so the store is safe to call from the server's
worker threads and from the CLI at the same time. Event sequence numbers are allotted under the
run's row (`runs.last_event`), so a run's events are numbered 1, 2, 3, ... with no gap.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import connect
from .tables import ArchitectureRow, EventRow, LayoutRow, RunRow, VersionRow

__all__ = [
    "ACTIVE",
    "TERMINAL",
    "ArchitectureRecord",
    "EventRecord",
    "NameTaken",
    "NotFound",
    "RunRecord",
    "Store",
    "VersionRecord",
    "utcnow",
]

ACTIVE = ("queued", "running")
TERMINAL = ("done", "failed", "cancelled")
INTERRUPTED = "interrupted: the server stopped while this run was {state}; start it again"


def utcnow() -> datetime:
    """Naive UTC (SQLite keeps no zone; every time in the store is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


class NotFound(LookupError):
    pass


class NameTaken(ValueError):
    pass


@dataclass(frozen=True)
class VersionRecord:
    architecture_id: int
    version: int
    text: str
    valid: bool
    diagnostics: list[dict[str, Any]]
    summary: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ArchitectureRecord:
    id: int
    name: str
    latest_version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RunRecord:
    id: int
    kind: str
    state: str
    source: str
    architecture_id: int | None
    version: int | None
    architecture_name: str
    b_architecture_id: int | None
    b_version: int | None
    b_architecture_name: str | None
    options: dict[str, Any]
    estimated_requests: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    interrupted: bool
    last_event: int
    progress: dict[str, Any] | None


@dataclass(frozen=True)
class EventRecord:
    seq: int
    type: str
    data: str
    """JSON text of the event's payload."""


def _version(row: VersionRow) -> VersionRecord:
    return VersionRecord(
        architecture_id=row.architecture_id,
        version=row.version,
        text=row.text,
        valid=row.valid,
        diagnostics=json.loads(row.diagnostics),
        summary=json.loads(row.summary),
        created_at=row.created_at,
    )


def _arch(row: ArchitectureRow) -> ArchitectureRecord:
    return ArchitectureRecord(row.id, row.name, row.latest_version, row.created_at, row.updated_at)


def _run(row: RunRow) -> RunRecord:
    return RunRecord(
        id=row.id,
        kind=row.kind,
        state=row.state,
        source=row.source,
        architecture_id=row.architecture_id,
        version=row.version,
        architecture_name=row.architecture_name,
        b_architecture_id=row.b_architecture_id,
        b_version=row.b_version,
        b_architecture_name=row.b_architecture_name,
        options=json.loads(row.options),
        estimated_requests=row.estimated_requests,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        interrupted=row.interrupted,
        last_event=row.last_event,
        progress=json.loads(row.progress) if row.progress else None,
    )


class Store:
    """Architectures, versions, runs and run events in one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._event_lock = threading.Lock()
        self._version_lock = threading.Lock()
        """SQLite ignores SELECT … FOR UPDATE: this process's saves of versions take turns."""

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(connect(url))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # ---- architectures ---------------------------------------------------------------------

    def list_architectures(self) -> list[tuple[ArchitectureRecord, VersionRecord]]:
        with self._session() as s:
            rows = s.execute(
                select(ArchitectureRow, VersionRow)
                .join(
                    VersionRow,
                    (VersionRow.architecture_id == ArchitectureRow.id)
                    & (VersionRow.version == ArchitectureRow.latest_version),
                )
                .order_by(ArchitectureRow.updated_at.desc(), ArchitectureRow.id.desc())
            ).all()
            return [(_arch(a), _version(v)) for a, v in rows]

    def create_architecture(
        self,
        name: str,
        text: str,
        valid: bool,
        diagnostics: list[dict[str, Any]],
        summary: dict[str, Any],
    ) -> ArchitectureRecord:
        now = utcnow()
        try:
            with self._session() as s:
                row = ArchitectureRow(name=name, latest_version=1, created_at=now, updated_at=now)
                s.add(row)
                s.flush()
                s.add(
                    VersionRow(
                        architecture_id=row.id,
                        version=1,
                        text=text,
                        valid=valid,
                        diagnostics=json.dumps(diagnostics),
                        summary=json.dumps(summary),
                        created_at=now,
                    )
                )
                return _arch(row)
        except IntegrityError:
            raise NameTaken(f"an architecture named '{name}' exists; choose another name") from None

    def architecture(self, arch_id: int) -> ArchitectureRecord:
        with self._session() as s:
            row = s.get(ArchitectureRow, arch_id)
            if row is None:
                raise NotFound(f"no architecture {arch_id}")
            return _arch(row)

    def architecture_by_name(self, name: str) -> ArchitectureRecord | None:
        with self._session() as s:
            row = s.scalars(select(ArchitectureRow).where(ArchitectureRow.name == name)).first()
            return _arch(row) if row else None

    def version(self, arch_id: int, version: int | None = None) -> VersionRecord:
        with self._session() as s:
            arch = s.get(ArchitectureRow, arch_id)
            if arch is None:
                raise NotFound(f"no architecture {arch_id}")
            wanted = arch.latest_version if version is None else version
            row = s.scalars(
                select(VersionRow).where(
                    VersionRow.architecture_id == arch_id, VersionRow.version == wanted
                )
            ).first()
            if row is None:
                raise NotFound(
                    f"architecture {arch_id} has no version {wanted} "
                    f"(versions 1 to {arch.latest_version})"
                )
            return _version(row)

    def versions(self, arch_id: int) -> list[VersionRecord]:
        with self._session() as s:
            if s.get(ArchitectureRow, arch_id) is None:
                raise NotFound(f"no architecture {arch_id}")
            rows = s.scalars(
                select(VersionRow)
                .where(VersionRow.architecture_id == arch_id)
                .order_by(VersionRow.version)
            ).all()
            return [_version(r) for r in rows]

    def add_version(
        self,
        arch_id: int,
        text: str,
        valid: bool,
        diagnostics: list[dict[str, Any]],
        summary: dict[str, Any],
    ) -> int:
        """Store `text` as the next version, unless it equals the latest; the version number.
        Two saves at once may pick the same number: the loser tries again with the next (after
        a short random wait, so that several losers do not collide again). On SQLite, which
        ignores the row lock, saves in this process also take turns."""
        for attempt in range(20):
            try:
                if self.backend == "sqlite":
                    with self._version_lock:
                        return self._add_version(arch_id, text, valid, diagnostics, summary)
                return self._add_version(arch_id, text, valid, diagnostics, summary)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise RuntimeError(f"architecture {arch_id} is being saved by others; try again")

    def _add_version(
        self,
        arch_id: int,
        text: str,
        valid: bool,
        diagnostics: list[dict[str, Any]],
        summary: dict[str, Any],
    ) -> int:
        now = utcnow()
        with self._session() as s:
            arch = s.get(ArchitectureRow, arch_id, with_for_update=True)
            if arch is None:
                raise NotFound(f"no architecture {arch_id}")
            latest = s.scalars(
                select(VersionRow).where(
                    VersionRow.architecture_id == arch_id,
                    VersionRow.version == arch.latest_version,
                )
            ).first()
            if latest is not None and latest.text == text:
                return arch.latest_version
            arch.latest_version += 1
            arch.updated_at = now
            s.add(
                VersionRow(
                    architecture_id=arch_id,
                    version=arch.latest_version,
                    text=text,
                    valid=valid,
                    diagnostics=json.dumps(diagnostics),
                    summary=json.dumps(summary),
                    created_at=now,
                )
            )
            return arch.latest_version

    def rename_architecture(self, arch_id: int, name: str) -> ArchitectureRecord:
        try:
            with self._session() as s:
                arch = s.get(ArchitectureRow, arch_id)
                if arch is None:
                    raise NotFound(f"no architecture {arch_id}")
                arch.name = name
                arch.updated_at = utcnow()
                s.flush()
                return _arch(arch)
        except IntegrityError:
            raise NameTaken(f"an architecture named '{name}' exists; choose another name") from None

    def delete_architecture(self, arch_id: int) -> None:
        """Delete it, its versions and its finished runs; refuse while a run of it is active."""
        with self._session() as s:
            arch = s.get(ArchitectureRow, arch_id)
            if arch is None:
                raise NotFound(f"no architecture {arch_id}")
            mine = (RunRow.architecture_id == arch_id) | (RunRow.b_architecture_id == arch_id)
            active = s.scalar(
                select(func.count()).select_from(RunRow).where(mine, RunRow.state.in_(ACTIVE))
            )
            if active:
                raise RuntimeError(
                    f"architecture {arch_id} has {active} queued or running run(s); "
                    "cancel them first"
                )
            run_ids = select(RunRow.id).where(mine)
            s.execute(delete(EventRow).where(EventRow.run_id.in_(run_ids)))
            s.execute(delete(RunRow).where(mine))
            s.execute(delete(VersionRow).where(VersionRow.architecture_id == arch_id))
            s.execute(delete(LayoutRow).where(LayoutRow.architecture_id == arch_id))
            s.delete(arch)

    # ---- layouts ---------------------------------------------------------------------------

    def layout(self, arch_id: int) -> dict[str, dict[str, float]]:
        """The designer's node positions of an architecture (empty when never saved)."""
        with self._session() as s:
            if s.get(ArchitectureRow, arch_id) is None:
                raise NotFound(f"no architecture {arch_id}")
            row = s.get(LayoutRow, arch_id)
            if row is None:
                return {}
            positions: dict[str, dict[str, float]] = json.loads(row.positions)
            return positions

    def save_layout(self, arch_id: int, positions: dict[str, dict[str, float]]) -> None:
        """Replace the node positions of an architecture (the caller validated them)."""
        text = json.dumps(positions, sort_keys=True, allow_nan=False)
        with self._session() as s:
            if s.get(ArchitectureRow, arch_id) is None:
                raise NotFound(f"no architecture {arch_id}")
            row = s.get(LayoutRow, arch_id)
            if row is None:
                s.add(LayoutRow(architecture_id=arch_id, positions=text, updated_at=utcnow()))
            else:
                row.positions = text
                row.updated_at = utcnow()

    # ---- runs ------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        kind: str,
        source: str,
        architecture_id: int | None,
        version: int | None,
        architecture_name: str,
        options: dict[str, Any],
        estimated_requests: int,
        b: tuple[int, int, str] | None = None,
        state: str = "queued",
    ) -> RunRecord:
        with self._session() as s:
            row = RunRow(
                kind=kind,
                state=state,
                source=source,
                architecture_id=architecture_id,
                version=version,
                architecture_name=architecture_name,
                b_architecture_id=b[0] if b else None,
                b_version=b[1] if b else None,
                b_architecture_name=b[2] if b else None,
                options=json.dumps(options),
                estimated_requests=estimated_requests,
                created_at=utcnow(),
                interrupted=False,
                last_event=0,
            )
            s.add(row)
            s.flush()
            return _run(row)

    def run(self, run_id: int) -> RunRecord:
        with self._session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"no run {run_id}")
            return _run(row)

    def runs(
        self,
        *,
        architecture_id: int | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
        kind: str | None = None,
    ) -> list[RunRecord]:
        query = select(RunRow).order_by(RunRow.id.desc()).limit(limit).offset(offset)
        if architecture_id is not None:
            query = query.where(
                (RunRow.architecture_id == architecture_id)
                | (RunRow.b_architecture_id == architecture_id)
            )
        if state is not None:
            query = query.where(RunRow.state == state)
        if kind is not None:
            query = query.where(RunRow.kind == kind)
        with self._session() as s:
            return [_run(r) for r in s.scalars(query).all()]

    def count_runs(self, state: str) -> int:
        with self._session() as s:
            return int(
                s.scalar(select(func.count()).select_from(RunRow).where(RunRow.state == state)) or 0
            )

    def result(self, run_id: int) -> str | None:
        with self._session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"no run {run_id}")
            return row.result

    def delete_run(self, run_id: int) -> None:
        with self._session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"no run {run_id}")
            if row.state in ACTIVE:
                raise RuntimeError(f"run {run_id} is {row.state}; cancel it first")
            s.execute(delete(EventRow).where(EventRow.run_id == run_id))
            s.delete(row)

    def append_events(
        self,
        run_id: int,
        events: Sequence[tuple[str, dict[str, Any]]],
        *,
        state: str | None = None,
        error: str | None = None,
        interrupted: bool = False,
        result: str | None = None,
        progress: dict[str, Any] | None = None,
    ) -> int:
        """Add events (type, payload) with the next sequence numbers and, in the same
        transaction, the run's new state, error, result or latest progress. Returns the last
        sequence number. Nothing is added to a run that has already ended."""
        now = utcnow()
        with self._event_lock, self._session() as s:
            row = s.get(RunRow, run_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no run {run_id}")
            if row.state in TERMINAL:
                return row.last_event
            seq = row.last_event
            for kind, payload in events:
                seq += 1
                s.add(EventRow(run_id=run_id, seq=seq, type=kind, data=json.dumps(payload)))
            row.last_event = seq
            if state is not None:
                row.state = state
                if state == "running":
                    row.started_at = now
                if state in TERMINAL:
                    row.finished_at = now
            if error is not None:
                row.error = error
            if interrupted:
                row.interrupted = True
            if result is not None:
                row.result = result
            if progress is not None:
                row.progress = json.dumps(progress)
            return seq

    def events(self, run_id: int, after: int = 0, limit: int = 1000) -> list[EventRecord]:
        with self._session() as s:
            rows = s.execute(
                select(EventRow.seq, EventRow.type, EventRow.data)
                .where(EventRow.run_id == run_id, EventRow.seq > after)
                .order_by(EventRow.seq)
                .limit(limit)
            ).all()
            return [EventRecord(seq, kind, data) for seq, kind, data in rows]

    def mark_interrupted(self) -> list[int]:
        """Runs left queued or running by a server that stopped: failed, interrupted. Their
        ids. Called once when a server starts, before it takes runs."""
        with self._session() as s:
            ids = list(s.scalars(select(RunRow.id).where(RunRow.state.in_(ACTIVE))).all())
        for run_id in ids:
            state = self.run(run_id).state
            message = INTERRUPTED.format(state=state)
            self.append_events(
                run_id,
                [("state", {"state": "failed", "error": message, "interrupted": True})],
                state="failed",
                error=message,
                interrupted=True,
            )
        return ids
