"""The one exception the catalog raises, so callers (the CLI, the web app) catch a single type."""

from __future__ import annotations

__all__ = ["CatalogError"]


class CatalogError(KeyError):
    """An unknown pattern or template, a bad `--set`, or an edit that breaks the file.

    It derives from KeyError because the common case is a lookup of an unknown id, and callers
    that already handle KeyError for lookups keep working. `str()` gives the message itself,
    not KeyError's quoted repr, because every message here is written for a terminal.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
