"""Messages about an architecture file that point at the exact place to fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .yamlbounds import printable

__all__ = ["ArchitectureError", "Diagnostic", "Path", "Severity", "format_path"]

Path = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def format_path(path: Path) -> str:
    """`spec.services.order.endpoints.create.steps[0].call`, the way the file nests it."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(document)"


@dataclass(frozen=True, order=True)
class Diagnostic:
    line: int
    column: int
    severity: Severity
    path: Path
    message: str
    file: str = field(default="<string>", compare=False)

    def __str__(self) -> str:
        """The one-line form; control characters from the file are escaped, never echoed raw."""
        return printable(
            f"{self.file}:{self.line}:{self.column}: {self.severity}: "
            f"{format_path(self.path)}: {self.message}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": str(self.severity),
            "path": format_path(self.path),
            "message": self.message,
        }


class ArchitectureError(ValueError):
    """The file is not a valid architecture; `diagnostics` lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        head = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        super().__init__(head + "".join(f"\n  {d}" for d in errors))
