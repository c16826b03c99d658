"""What a server is configured with: where its store is, who may call it, how much it may run.

Settings come from `scalesim serve` options, then environment variables, then these defaults;
nothing is read from a file a client names.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Limits", "Settings", "default_db_url", "is_loopback"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@dataclass(frozen=True)
class Limits:
    """Bounds checked before a run starts (422 `limit_exceeded` names the one crossed)."""

    requests: int = 20_000_000
    """Simulated entry requests of one run, estimated from its traffic and duration."""
    replications: int = 20
    duration: float = 86_400.0
    """Simulated seconds of one replication."""
    file_bytes: int = 256 * 1024
    """Bytes of one architecture's YAML text."""
    services: int = 200
    """Services, databases and topics of one architecture."""
    body_bytes: int = 1024 * 1024
    """Bytes of one request body."""
    sweep_tasks: int = 400
    """Points × replications of one sweep (each a simulation)."""


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    db_url: str
    token: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = field(default_factory=default_workers)
    """Runs simulated at the same time, each in its own process."""
    queue_size: int = 64
    """Runs that may wait for a worker; one more is refused with 429."""
    limits: Limits = field(default_factory=Limits)
    allowed_origins: tuple[str, ...] = ()
    """Origins besides the server's own that may write (e.g. a dev server of the page)."""
    worker_nice: int = 10
    """Niceness added to simulation processes, so the server itself stays responsive."""
    static_dir: Path | None = None
    """Where the page's build is; None: the package's `web/static/`."""


def default_db_url() -> str:
    """`SCALESIM_DB`, else SQLite in the user data folder (created on first use)."""
    url = os.environ.get("SCALESIM_DB")
    if url:
        return url
    from platformdirs import user_data_path

    folder = user_data_path("scalesim", appauthor=False)
    return f"sqlite:///{folder / 'scalesim.db'}"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
