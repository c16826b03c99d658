"""Parse YAML/JSON text into documents, keeping line numbers of every field.

PyYAML's compose step gives nodes with marks; we construct the Python data from the same node and
walk it once more to record ``path -> line``. That walk also finds repeated mapping keys, which
PyYAML silently collapses but the API server rejects under strict field validation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scalesim_patterns.generate.lint.paths import FieldPath

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ManifestLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loader that reads scalars the way Kubernetes' YAML-to-JSON conversion does.

    Unquoted dates stay strings (the API server sees JSON strings, not timestamps), and a bare
    ``=`` is a string instead of PyYAML's unsupported "value" tag.
    """


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_value(loader: Any, node: Node) -> str:
    return str(node.value)


_ManifestLoader.add_constructor("tag:yaml.org,2002:value", _construct_value)


@dataclass
class ParsedDocument:
    index: int
    line: int
    data: Any
    positions: dict[FieldPath, int]
    duplicate_keys: list[tuple[FieldPath, int]] = field(default_factory=list)
    aliases: list[tuple[FieldPath, int]] = field(default_factory=list)
    """Where the document reuses a node through a YAML alias (`*id001`) or a merge key (`<<`)."""


@dataclass
class ParseError:
    line: int
    message: str


class RecursiveAlias(Exception):
    """A YAML alias refers to a node that contains it: the document has no finite JSON form."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _walk(
    node: Node,
    path: FieldPath,
    positions: dict[FieldPath, int],
    duplicates: list[tuple[FieldPath, int]],
    aliases: list[tuple[FieldPath, int]] | None = None,
) -> None:
    """Record field lines and repeated keys, visiting each node once (iteratively).

    An aliased node is walked only where its anchor is, so `&a`/`*a` chains cost their size, not
    their expansion; a node that contains itself (`a: &a [*a]`) raises `RecursiveAlias` instead of
    recursing without end.
    """
    seen: set[int] = set()
    stack: list[tuple[Node, FieldPath, frozenset[int]]] = [(node, path, frozenset())]
    while stack:
        current, where, ancestors = stack.pop()
        if id(current) in ancestors:
            raise RecursiveAlias(current.start_mark.line + 1)
        if id(current) in seen:
            if isinstance(current, MappingNode | SequenceNode):
                _check_acyclic(current, ancestors)
            if aliases is not None:
                aliases.append((where, positions.get(where, current.start_mark.line + 1)))
            continue
        seen.add(id(current))
        inner = ancestors | {id(current)}
        children: list[tuple[Node, FieldPath]] = []
        if isinstance(current, MappingNode):
            keys: set[str] = set()
            for key_node, value_node in current.value:
                if not isinstance(key_node, ScalarNode) or key_node.value == "<<":
                    if aliases is not None and isinstance(key_node, ScalarNode):
                        aliases.append(((*where, "<<"), key_node.start_mark.line + 1))
                    continue
                key = str(key_node.value)
                child = (*where, key)
                line = key_node.start_mark.line + 1
                if key in keys:
                    duplicates.append((child, line))
                else:
                    keys.add(key)
                    positions[child] = line
                children.append((value_node, child))
        elif isinstance(current, SequenceNode):
            for i, item in enumerate(current.value):
                child = (*where, i)
                positions[child] = item.start_mark.line + 1
                children.append((item, child))
        for item in reversed(children):
            stack.append((item[0], item[1], inner))


def _check_acyclic(node: Node, ancestors: frozenset[int]) -> None:
    """A node reached again through an alias must not contain one of the nodes around it."""
    stack = [node]
    visited: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        if id(current) in ancestors:
            raise RecursiveAlias(current.start_mark.line + 1)
        if isinstance(current, MappingNode):
            stack.extend(v for pair in current.value for v in pair)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)


def parse_yaml(text: str) -> tuple[list[ParsedDocument], ParseError | None]:
    """All documents of a (multi-document) YAML text; on a syntax error, those before it."""
    docs: list[ParsedDocument] = []
    loader = _ManifestLoader(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            positions: dict[FieldPath, int] = {}
            duplicates: list[tuple[FieldPath, int]] = []
            aliases: list[tuple[FieldPath, int]] = []
            try:
                _walk(node, (), positions, duplicates, aliases)
            except RecursiveAlias as exc:
                return docs, ParseError(
                    exc.line,
                    "YAML alias refers to a node that contains it (a recursive structure has no "
                    "JSON form and the API server refuses it)",
                )
            data = loader.construct_document(node)
            docs.append(
                ParsedDocument(
                    index, node.start_mark.line + 1, data, positions, duplicates, aliases
                )
            )
            index += 1
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        message = f"YAML syntax error: {getattr(exc, 'problem', None) or exc}"
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line + 1 != line:
            message += f" ({context} started at line {context_mark.line + 1})"
        return docs, ParseError(line, message)
    finally:
        loader.dispose()
    return docs, None


def parse_text(text: str, is_json: bool) -> tuple[list[ParsedDocument], ParseError | None]:
    """Parse a manifest file; JSON goes through YAML first (for line numbers), then json."""
    docs, error = parse_yaml(text)
    if error is None or not is_json:
        return docs, error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], ParseError(exc.lineno, f"JSON syntax error: {exc.msg}")
    return [ParsedDocument(0, 1, data, {})], None
