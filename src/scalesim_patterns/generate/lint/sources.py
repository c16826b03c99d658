"""Where manifest text comes from: the disk, or an in-memory mapping (generator output in tests).

Kustomizations name other paths, so the loader needs "does this exist / is it a folder" as well
as "read this"; both sources answer the same three questions on normalised path strings.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Protocol


class UnreadableFile(Exception):
    """The file exists but is not UTF-8 text we can read; the message says why and where."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


class FileSource(Protocol):
    def read_text(self, name: str) -> str | None:
        """The text of `name`; None when it does not exist; `UnreadableFile` when unreadable."""
        ...

    def is_file(self, name: str) -> bool: ...

    def is_dir(self, name: str) -> bool: ...


class DiskSource:
    def read_text(self, name: str) -> str | None:
        # Never open a FIFO or device: reading would block or never end.
        try:
            st = os.stat(name)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise UnreadableFile(f"cannot read the file: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile("not a regular file (a FIFO, socket or device); not read")
        try:
            with open(name, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise UnreadableFile(f"cannot read the file: {exc.strerror or exc}") from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise UnreadableFile(
                f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): Kubernetes "
                "manifests are UTF-8; convert the file (e.g. iconv -f latin1 -t utf-8) or remove "
                "it from the folder",
                line,
            ) from exc

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
