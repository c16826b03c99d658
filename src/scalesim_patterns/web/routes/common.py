"""What every route module shares: documented error responses and id parameters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Path

from ..errors import ApiError
from ..schemas import MAX_ID, ErrorBody
from ..store import NameTaken, NotFound

__all__ = ["ArchId", "RunId", "VersionNo", "errors", "store_errors"]

ArchId = Annotated[int, Path(ge=1, le=MAX_ID, description="Architecture id.")]
VersionNo = Annotated[int, Path(ge=1, le=MAX_ID, description="Version number (1, 2, ...).")]
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="Run id.")]

_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Token missing or wrong",
    403: "Cross-origin write",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    422: "Invalid request, architecture or limit",
    429: "Run queue full",
    503: "Not ready",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route may answer (always 400, 401, 422)."""
    wanted = sorted({400, 401, 403, 413, 422, *statuses})
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in wanted}


@contextmanager
def store_errors() -> Iterator[None]:
    """Store exceptions as API errors."""
    try:
        yield
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except NameTaken as exc:
        raise ApiError(409, "conflict", str(exc)) from None
