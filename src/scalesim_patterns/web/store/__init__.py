"""The run store: architectures with their versions, runs and their events, in SQLite or
PostgreSQL through SQLAlchemy 2, its schema kept by Alembic migrations. Shared by the web
server and the CLI (`scalesim simulate --save`, `scalesim runs`)."""

from .db import connect, normalise_url
from .repo import (
    ACTIVE,
    TERMINAL,
    ArchitectureRecord,
    EventRecord,
    NameTaken,
    NotFound,
    RunRecord,
    Store,
    VersionRecord,
)

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
    "connect",
    "normalise_url",
]
