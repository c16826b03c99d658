"""A parsed manifest document together with where it came from and where its fields sit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalesim_patterns.generate.lint.paths import FieldPath


@dataclass
class Document:
    """One YAML/JSON document (or one item of a ``kind: List``).

    ``positions`` maps field paths of the whole file document to 1-based line numbers; for a List
    item ``prefix`` is its path inside the List (``("items", 3)``) so look-ups stay file-accurate.
    The Kustomize fields hold what including kustomizations add: a namespace and labels.
    """

    file: str
    index: int
    line: int
    data: Any
    positions: dict[FieldPath, int] = field(default_factory=dict)
    prefix: FieldPath = ()
    kustomize_namespace: str | None = None
    kustomize_labels: dict[str, str] = field(default_factory=dict)

    def line_at(self, path: FieldPath) -> int:
        """Line of the deepest part of ``path`` that exists in the file (falls back to the start)."""
        full = self.prefix + path
        for end in range(len(full), 0, -1):
            line = self.positions.get(full[:end])
            if line is not None:
                return line
        return self.line

    def get(self, *path: str | int) -> Any:
        """Safe navigation: ``None`` as soon as a step is missing or of the wrong type."""
        node: Any = self.data
        for step in path:
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    return None
            elif not isinstance(node, dict):
                return None
            node = node[step] if isinstance(step, int) else node.get(step)
            if node is None:
                return None
        return node

    @property
    def api_version(self) -> str:
        value = self.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def kind(self) -> str:
        value = self.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def name(self) -> str:
        value = self.get("metadata", "name")
        return value if isinstance(value, str) else ""

    @property
    def explicit_namespace(self) -> str | None:
        value = self.get("metadata", "namespace")
        return value if isinstance(value, str) and value else None

    @property
    def namespace(self) -> str | None:
        """The namespace the object lands in: Kustomize's namespace wins, as in `kustomize build`."""
        return self.kustomize_namespace or self.explicit_namespace

    @property
    def labels(self) -> dict[str, str]:
        value = self.get("metadata", "labels")
        if not isinstance(value, dict):
            return {}
        return {str(k): str(v) for k, v in value.items()}
