"""Writing output files safely: atomically, and never over something the user wrote."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["OutputExistsError", "write_text_atomic"]


class OutputExistsError(FileExistsError):
    """The target exists and the caller did not pass force."""


def write_text_atomic(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write `text` to `path` through a temporary file and a rename.

    Readers see the old file or the new one, never half of it; an interrupted run leaves no
    truncated file. An existing file is replaced only with `force`.
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(f"{target} exists; pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
