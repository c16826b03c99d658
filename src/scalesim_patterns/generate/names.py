"""Kubernetes names, labels and environment keys derived from architecture names.

Every object name the generator emits goes through here so the rules live in one place: DNS-1123
labels of at most 63 characters (long names keep a stable hash suffix instead of being cut into
collisions), label values that Kubernetes accepts, and environment keys applications can read.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "MANAGED_BY",
    "env_key",
    "k8s_name",
    "label_value",
    "path_slug",
    "stable_token",
]

MANAGED_BY = "scalesim"

_INVALID_LABEL = re.compile(r"[^A-Za-z0-9._-]")


def stable_token(*parts: str, length: int = 8) -> str:
    """A short hex digest of `parts`, identical on every run and machine."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def k8s_name(base: str, suffix: str = "", limit: int = 63) -> str:
    """`base-suffix`, shortened with a hash when it would exceed `limit` characters."""
    full = f"{base}-{suffix}" if suffix else base
    if len(full) <= limit:
        return full
    token = stable_token(full, length=6)
    keep = limit - len(token) - 1 - (len(suffix) + 1 if suffix else 0)
    head = base[:keep].rstrip("-")
    return f"{head}-{token}-{suffix}" if suffix else f"{head}-{token}"


def label_value(value: str) -> str:
    """A valid label value: allowed characters only, at most 63, alphanumeric at both ends."""
    cleaned = _INVALID_LABEL.sub("-", value)[:63].strip("-._")
    return cleaned or "unknown"


def env_key(name: str) -> str:
    """`users-db` → `USERS_DB`."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def path_slug(path: str) -> str:
    """`/products/item` → `products-item`; `/` → `root`."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return slug or "root"
