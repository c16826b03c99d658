"""Where manifest text comes from: the disk, or an in-memory mapping (generator output in tests).

Kustomizations name other paths, so the loader needs "does this exist / is it a folder" as well
as "read this"; both sources answer the same three questions on normalised path strings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol


class FileSource(Protocol):
    def read_text(self, name: str) -> str | None: ...

    def is_file(self, name: str) -> bool: ...

    def is_dir(self, name: str) -> bool: ...


class DiskSource:
    def read_text(self, name: str) -> str | None:
        try:
            with open(name, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError):
            return None

    def is_file(self, name: str) -> bool:
        return os.path.isfile(name)

    def is_dir(self, name: str) -> bool:
        return os.path.isdir(name)


class MemorySource:
    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = {os.path.normpath(name): text for name, text in files.items()}
        self._dirs: set[str] = set()
        for name in self.files:
            parent = os.path.dirname(name)
            while parent and parent not in self._dirs:
                self._dirs.add(parent)
                parent = os.path.dirname(parent)

    def read_text(self, name: str) -> str | None:
        return self.files.get(name)

    def is_file(self, name: str) -> bool:
        return name in self.files

    def is_dir(self, name: str) -> bool:
        return name in self._dirs
