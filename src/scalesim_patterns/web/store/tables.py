"""The store's tables. Changing one means a new Alembic revision in `migrations/versions/`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["ArchitectureRow", "Base", "EventRow", "LayoutRow", "RunRow", "VersionRow"]


class Base(DeclarativeBase):
    pass


class ArchitectureRow(Base):
    __tablename__ = "architectures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    latest_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime())
    updated_at: Mapped[datetime] = mapped_column(DateTime())


class LayoutRow(Base):
    """Where the designer draws each node of an architecture: one row per architecture, not
    versioned (moving a node is not an edit of the design)."""

    __tablename__ = "architecture_layouts"

    architecture_id: Mapped[int] = mapped_column(
        ForeignKey("architectures.id", ondelete="CASCADE"), primary_key=True
    )
    positions: Mapped[str] = mapped_column(Text)
    """JSON object: topology node id -> {"x": float, "y": float}."""
    updated_at: Mapped[datetime] = mapped_column(DateTime())


class VersionRow(Base):
    __tablename__ = "architecture_versions"
    __table_args__ = (UniqueConstraint("architecture_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    architecture_id: Mapped[int] = mapped_column(
        ForeignKey("architectures.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    valid: Mapped[bool] = mapped_column(Boolean)
    diagnostics: Mapped[str] = mapped_column(Text)
    """JSON list of diagnostics (`Diagnostic.to_dict()`)."""
    summary: Mapped[str] = mapped_column(Text)
    """JSON: services, databases, traffic, scenarios of a valid version."""
    created_at: Mapped[datetime] = mapped_column(DateTime())


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    architecture_id: Mapped[int | None] = mapped_column(
        ForeignKey("architectures.id", ondelete="SET NULL"), nullable=True, index=True
    )
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    architecture_name: Mapped[str] = mapped_column(String(100))
    b_architecture_id: Mapped[int | None] = mapped_column(
        ForeignKey("architectures.id", ondelete="SET NULL"), nullable=True
    )
    b_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    b_architecture_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    options: Mapped[str] = mapped_column(Text)
    """JSON: scenario, duration, replications, seed as asked (null: the file's own)."""
    estimated_requests: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_event: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The result JSON exactly as `scalesim simulate --json` writes it."""


class EventRow(Base):
    __tablename__ = "run_events"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)
