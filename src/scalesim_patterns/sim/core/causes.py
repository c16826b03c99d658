"""Outcome codes of a call: 0 is success, anything else names why it failed.

Small integers rather than strings keep the hot path to an int test (`if call.status:`). The
names are the model's `Cause` literals, so a policy's `retryOn: [timeout]` maps straight to a code.
"""

from __future__ import annotations

from typing import Final

from scalesim_patterns.model.resilience import CAUSES

__all__ = [
    "BULKHEAD_FULL",
    "CAUSE_NAMES",
    "CIRCUIT_OPEN",
    "ERROR",
    "OK",
    "RATE_LIMITED",
    "REJECTED",
    "TIMEOUT",
    "UNAUTHORIZED",
    "UNAVAILABLE",
    "cause_code",
]

CAUSE_NAMES: Final[tuple[str, ...]] = ("ok", *CAUSES)
"""Index = code."""


def cause_code(name: str) -> int:
    """The code of a cause name such as 'timeout'."""
    return CAUSE_NAMES.index(name)


OK: Final = 0
ERROR: Final = cause_code("error")
TIMEOUT: Final = cause_code("timeout")
REJECTED: Final = cause_code("rejected")
UNAVAILABLE: Final = cause_code("unavailable")
CIRCUIT_OPEN: Final = cause_code("circuit_open")
BULKHEAD_FULL: Final = cause_code("bulkhead_full")
RATE_LIMITED: Final = cause_code("rate_limited")
UNAUTHORIZED: Final = cause_code("unauthorized")
