"""YAML to plain data, remembering where every key and item stood in the file.

PyYAML's composer gives nodes with marks; we build the data ourselves so that each path maps to
a line and column, keys are always the text the user typed (YAML 1.1 would turn a key `on:` into
True), and a key written twice is an error instead of a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .diagnostics import Path
from .yamlbounds import DEFAULT_LIMITS, InputLimits, YamlLimitError, check_text

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

__all__ = ["Document", "YamlProblem", "parse_yaml"]

_MERGE = "tag:yaml.org,2002:merge"


@dataclass
class YamlProblem:
    line: int
    column: int
    path: Path
    message: str


@dataclass
class Document:
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)

    def position(self, path: Path) -> tuple[int, int]:
        """Line and column of `path`, or of its nearest ancestor that is in the file."""
        for end in range(len(path), -1, -1):
            pos = self.positions.get(path[:end])
            if pos is not None:
                return pos
        return (1, 1)


def parse_yaml(text: str, limits: InputLimits = DEFAULT_LIMITS) -> Document:
    """Parse one YAML document. Syntax errors and inputs beyond `limits` become problems, not
    exceptions; the limits are checked before anything is built."""
    try:
        check_text(text, limits)
    except YamlLimitError as exc:
        return Document(None, {}, [YamlProblem(exc.line, exc.column, (), exc.message)])
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        return Document(None, {}, [YamlProblem(line, col, (), f"YAML syntax: {what}")])
    except yaml.YAMLError as exc:
        return Document(None, {}, [YamlProblem(1, 1, (), f"YAML: {exc}")])
    doc = Document(None, {(): (1, 1)})
    if node is None:
        return doc
    doc.data = _build(node, (), doc, yaml.constructor.SafeConstructor(), 0)
    return doc


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(
    node: yaml.Node,
    path: Path,
    doc: Document,
    scalars: yaml.constructor.SafeConstructor,
    depth: int,
) -> Any:
    if depth > 64:
        doc.problems.append(YamlProblem(*_mark(node), path, "nested too deeply"))
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        pairs = list(node.value)
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in pairs:
            if key_node.tag == _MERGE:
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for src in sources:
                    if isinstance(src, yaml.MappingNode):
                        merged.extend(src.value)
                    else:
                        doc.problems.append(
                            YamlProblem(
                                *_mark(src),
                                path,
                                "'<<' merges mappings: give a mapping or an alias of one "
                                "(e.g. '<<: *defaults'), or a list of them",
                            )
                        )
        for key_node, value_node in pairs:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                doc.problems.append(YamlProblem(*_mark(key_node), path, "keys must be plain text"))
                continue
            key = str(key_node.value)
            sub = (*path, key)
            if key in out:
                first = doc.positions.get(sub, (0, 0))[0]
                doc.problems.append(
                    YamlProblem(
                        *_mark(key_node), sub, f"key '{key}' appears twice (first on line {first})"
                    )
                )
                continue
            doc.positions[sub] = _mark(key_node)
            out[key] = _build(value_node, sub, doc, scalars, depth + 1)
        for key_node, value_node in merged:
            key = str(key_node.value)
            if key not in out:
                sub = (*path, key)
                doc.positions.setdefault(sub, _mark(key_node))
                out[key] = _build(value_node, sub, doc, scalars, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            sub = (*path, i)
            doc.positions[sub] = _mark(item)
            items.append(_build(item, sub, doc, scalars, depth + 1))
        return items
    try:
        return scalars.construct_object(node, deep=True)
    except (yaml.constructor.ConstructorError, ValueError, OverflowError) as exc:
        doc.problems.append(YamlProblem(*_mark(node), path, f"cannot read value: {exc}"))
        return None
