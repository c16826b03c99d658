"""`--set key=value` edits on an architecture file, keeping its comments, anchors and key order.

A template is documentation as much as data: its comments explain each choice, so an edit must
change one value and leave every other byte alone. ruamel.yaml's round-trip mode keeps comments,
flow style and anchors; this module walks the document alongside the architecture model, so a
path can only name a field the model has (a typo gets a did-you-mean instead of a silently
ignored key), and new keys land where the model orders them, not at the end.

Values are read the way the model's loader reads the file (PyYAML, YAML 1.1), so `=on` means what
`on` would mean typed into the file, and written back so the loader reads exactly that value.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import StringIO
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from ..model import Architecture, Diagnostic, Severity, validate_text
from ..model.diagnostics import format_path
from ..model.yamlbounds import YamlLimitError, check_text, printable, safe_load_value
from .errors import CatalogError
from .store import did_you_mean

__all__ = ["Edit", "apply_sets", "parse_set"]

DocPath = tuple[str | int, ...]
_TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec")


@dataclass(frozen=True)
class Edit:
    """One `--set`: where, what, and the text the user typed (for messages)."""

    source: str
    segments: tuple[str | int, ...]
    """Path as typed (digits already turned into ints where unquoted)."""
    value: Any
    raw_value: bool = False
    """True when `value` is already the final Python value (not YAML text to parse)."""


# -- parsing `key=value` --------------------------------------------------------------------


def parse_set(text: str) -> Edit:
    """Split `a.b."c.d".0=value` into path segments and the (still unparsed) value text."""
    segments: list[str | int] = []
    current: list[str] = []
    quoted = False
    i = 0

    def flush() -> None:
        nonlocal quoted
        word = "".join(current)
        if not word and not quoted:
            raise CatalogError(
                f"--set {text}: empty key segment; write keys like services.order.replicas"
            )
        segments.append(int(word) if word.isdigit() and not quoted else word)
        current.clear()
        quoted = False

    while i < len(text):
        ch = text[i]
        if ch in "\"'" and not current:
            end = text.find(ch, i + 1)
            if end < 0:
                raise CatalogError(f"--set {text}: unclosed quote in the key")
            current.append(text[i + 1 : end])
            quoted = True
            i = end + 1
            if i < len(text) and text[i] not in ".[=":
                raise CatalogError(
                    f"--set {text}: a quoted key segment must be followed by '.' or '='"
                )
            continue
        if ch == "[":
            end = text.find("]", i)
            if end < 0:
                raise CatalogError(f"--set {text}: unclosed '[' in the key")
            if current or quoted:
                flush()
            current.append(text[i + 1 : end])
            flush()
            i = end + 1
            if i < len(text) and text[i] == ".":
                i += 1
            continue
        if ch == "=":
            if current or quoted or not segments or text[i - 1] == ".":
                flush()
            value = text[i + 1 :]
            if value == "":
                raise CatalogError(
                    f"--set {text}: no value after '='; write \"\" for an empty string"
                )
            return Edit(source=text, segments=tuple(segments), value=value)
        if ch == ".":
            flush()
        else:
            current.append(ch)
        i += 1
    raise CatalogError(f"--set {text}: expected KEY=VALUE, e.g. services.order.replicas=5")


def _parse_value(edit: Edit) -> Any:
    if edit.raw_value:
        return _to_ruamel(edit.value)
    try:
        value = safe_load_value(str(edit.value))
    except YamlLimitError as exc:
        raise CatalogError(f"--set {printable(edit.source[:80])}: {exc.message}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(
            f"--set {printable(edit.source[:80])}: the value is not valid YAML: {exc}"
        ) from None
    return _to_ruamel(value)


def _to_ruamel(value: Any) -> Any:
    """Python data to ruamel nodes: collections in flow style, strings quoted when needed."""
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _to_ruamel(v)
        m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_to_ruamel(v) for v in value)
        s.fa.set_flow_style()
        return s
    if isinstance(value, str) and _needs_quotes(value):
        return DoubleQuotedScalarString(value)
    return value


def _needs_quotes(text: str) -> bool:
    """Would the loader (YAML 1.1) read this string, written plain, as something else?"""
    try:
        return bool(safe_load_value(text) != text)
    except (yaml.YAMLError, YamlLimitError):
        return True


# -- the model side: which keys exist where ------------------------------------------------


def _candidates(tp: Any) -> list[Any]:
    """Concrete types an annotation may hold, with Annotated, unions and None unpacked."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _candidates(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [c for a in get_args(tp) if a is not type(None) for c in _candidates(a)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """File key (alias) to annotation, in declaration order."""
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _aliases(model: type[BaseModel]) -> dict[str, str]:
    """Python field name to file key, so `queue_capacity` finds `queueCapacity`."""
    return {name: (f.alias or name) for name, f in model.model_fields.items()}


def _literal_values(tp: Any) -> set[Any] | None:
    for cand in _candidates(tp):
        if get_origin(cand) is Literal:
            return set(get_args(cand))
    return None


def _narrow(models: list[type[BaseModel]], node: Any) -> list[type[BaseModel]]:
    """Of a union's models, those the data already in the file can be."""
    if not isinstance(node, dict) or not models:
        return models
    fitting = []
    for m in models:
        fields = _fields(m)
        ok = True
        for key, tp in fields.items():
            allowed = _literal_values(tp)
            if allowed is not None and key in node and node[key] not in allowed:
                ok = False
        if ok:
            fitting.append(m)
    models = fitting or models
    keys = set(node)
    covering = [m for m in models if keys <= set(_fields(m))]
    return covering or models


@dataclass
class _Place:
    """Where the walk is: the data node and the types it may have."""

    node: Any
    types: list[Any]
    path: DocPath

    def models(self) -> list[type[BaseModel]]:
        return _narrow([t for t in self.types if _is_model(t)], self.node)

    def dict_value_types(self) -> list[Any]:
        return [c for t in self.types if get_origin(t) is dict for c in _candidates(get_args(t)[1])]

    def list_item_types(self) -> list[Any]:
        return [c for t in self.types if get_origin(t) is list for c in _candidates(get_args(t)[0])]


def _child_types(place: _Place, key: str | int) -> list[Any]:
    out: list[Any] = []
    if isinstance(key, str):
        for m in place.models():
            tp = _fields(m).get(key)
            if tp is not None:
                out.extend(_candidates(tp))
        out.extend(place.dict_value_types())
    else:
        out.extend(place.list_item_types())
    return out


def _creatable(types_: list[Any]) -> bool:
    """Can an entry of this type start empty and be completed by further `--set`s?

    A new service or database needs several required fields at once; a key that would create
    one is far more often a typo of an existing name, so it is refused with a did-you-mean.
    """
    for tp in types_:
        if not _is_model(tp):
            return True
        if not any(f.is_required() for f in tp.model_fields.values()):
            return True
    return False


# -- the data side: walking and editing ruamel nodes ---------------------------------------


def _shared_ids(root: Any) -> set[int]:
    """Containers reachable by more than one path (YAML aliases): editing one edits all."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, CommentedMap | CommentedSeq):
            continue
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        stack.extend(node.values() if isinstance(node, CommentedMap) else node)
    return shared


def _unshare(parent: Any, key: str | int, shared: set[int]) -> Any:
    """The child at `key`, copied first when an alias shares it, so the edit stays local."""
    child = parent[key]
    if isinstance(child, CommentedMap | CommentedSeq) and id(child) in shared:
        child = copy.deepcopy(child)
        _drop_anchors(child)
        parent[key] = child
    return child


def _drop_anchors(node: Any) -> None:
    if isinstance(node, CommentedMap | CommentedSeq):
        if node.anchor.value is not None:
            node.anchor.value = None
        for child in node.values() if isinstance(node, CommentedMap) else node:
            _drop_anchors(child)


def _is_flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())


def _last_chain(node: Any, key: str | int) -> tuple[list[Any], Any, str | int]:
    """Block containers on the way to the deepest last element under `node[key]`, and that slot.

    ruamel hangs the blank lines and comments that follow an item on the deepest last element
    (or, after a flow item, on the `end` of the enclosing block container).
    """
    chain: list[Any] = []
    cont, k = node, key
    while True:
        child = cont[k]
        if isinstance(child, CommentedMap | CommentedSeq) and len(child) and not _is_flow(child):
            chain.append(child)
            cont = child
            k = list(child.keys())[-1] if isinstance(child, CommentedMap) else len(child) - 1
            continue
        return chain, cont, k


def _comment_slot(cont: Any) -> int:
    return 2 if isinstance(cont, CommentedMap) else 0


def _detach_trailing(parent: Any, prev: str | int) -> str | None:
    """Remove and return what follows the line of `parent[prev]` (blank lines, comments)."""
    chain, cont, k = _last_chain(parent, prev)
    slot = _comment_slot(cont)
    entry = cont.ca.items.get(k)
    if entry and len(entry) > slot and entry[slot] is not None:
        token = entry[slot]
        eol, nl, rest = str(token.value).partition("\n")
        if nl and rest:
            if eol.strip():
                token.value = eol + "\n"
            else:
                entry[slot] = None
            return rest
    for container in reversed(chain):
        end = getattr(container.ca, "end", None)
        if end:
            text = "".join(str(t.value) for t in end)
            container.ca.end = []
            return text
    return None


def _move_trailing(parent: Any, prev: str | int | None, new: str | int) -> None:
    """Blank lines and comments after the item before `new` belong after `new` instead."""
    if prev is None or _is_flow(parent):
        return
    rest = _detach_trailing(parent, prev)
    if not rest:
        return
    _, new_cont, new_k = _last_chain(parent, new)
    items = new_cont.ca.items.setdefault(new_k, [None, None, None, None])
    items[_comment_slot(new_cont)] = CommentToken("\n" + rest, CommentMark(0), None)


def _fresh_item(seq: CommentedSeq) -> CommentedMap:
    """A new mapping for a list, in flow style when its siblings are (`- {name: ..., ...}`)."""
    item = CommentedMap()
    if any(_is_flow(x) for x in seq):
        item.fa.set_flow_style()
    return item


def _insert(place: _Place, key: str, value: Any) -> None:
    """Add `key` where the model's field order puts it among the keys already there."""
    mapping = place.node
    order: list[str] = []
    for m in place.models():
        order = list(_fields(m))
        break
    pos = len(mapping)
    if key in order:
        rank = order.index(key)
        for i, existing in enumerate(mapping):
            if existing in order and order.index(existing) > rank:
                pos = i
                break
    keys = list(mapping)
    prev = keys[pos - 1] if pos > 0 else None
    mapping.insert(pos, key, value)
    _move_trailing(mapping, prev, key)


def _resolve_key(place: _Place, segments: Sequence[str | int], i: int) -> tuple[str, int]:
    """The file key segment `i` names, and how many segments it used.

    Keys may contain dots (topic `orders.v1`, label `app.kubernetes.io/team`): when a segment
    is not a key here but it and the next ones joined by dots are, that key is meant.
    """
    seg = str(segments[i])
    node = place.node
    if seg in node:
        return seg, 1
    for j in range(len(segments), i + 1, -1):
        joined = ".".join(str(s) for s in segments[i:j])
        if joined in node:
            return joined, j - i
    for m in place.models():
        alias = _aliases(m).get(seg)
        if alias is not None:
            return alias, 1
    return seg, 1


def _known_keys(place: _Place) -> list[str]:
    keys: list[str] = []
    for m in place.models():
        keys.extend(k for k in _fields(m) if k not in keys)
    if place.dict_value_types():
        keys.extend(str(k) for k in place.node if str(k) not in keys)
    return keys


def _describe(path: DocPath) -> str:
    return format_path(path) if path else "the document"


def _root(edit: Edit, doc: CommentedMap) -> tuple[_Place, list[str | int]]:
    segs = list(edit.segments)
    if segs == ["name"]:
        segs = ["metadata", "name"]
    if segs and segs[0] in _TOP_LEVEL:
        return _Place(doc, [Architecture], ()), segs
    spec = doc.get("spec")
    if not isinstance(spec, CommentedMap):
        raise CatalogError(f"--set {edit.source}: the document has no `spec` mapping")
    spec_type = Architecture.model_fields["spec"].annotation
    return _Place(spec, [spec_type], ("spec",)), segs


def _apply(doc: CommentedMap, edit: Edit) -> DocPath:
    """Make one edit; the full document path it changed."""
    place, segs = _root(edit, doc)
    value = _parse_value(edit)
    shared = _shared_ids(doc)
    where = f"--set {edit.source}"
    i = 0
    while i < len(segs):
        node = place.node
        if isinstance(node, CommentedMap):
            key, used = _resolve_key(place, segs, i)
            last = i + used >= len(segs)
            child_types = _child_types(place, key)
            if key not in node:
                in_model = any(key in _fields(m) for m in place.models())
                if not in_model and not place.dict_value_types():
                    raise CatalogError(
                        f"{where}: {_describe(place.path)} has no field '{key}'"
                        f"{did_you_mean(key, _known_keys(place))}"
                    )
                if not in_model and not _creatable(child_types):
                    raise CatalogError(
                        f"{where}: {_describe(place.path)} has no entry '{key}'"
                        f"{did_you_mean(key, [str(k) for k in node])} "
                        "(--set only edits existing entries; add new ones in the file)"
                    )
                if last:
                    _insert(place, key, value)
                    return (*place.path, key)
                nxt = segs[i + used]
                fresh: Any = (
                    CommentedSeq()
                    if isinstance(nxt, int) and any(get_origin(t) is list for t in child_types)
                    else CommentedMap()
                )
                _insert(place, key, fresh)
            elif last:
                node[key] = value
                return (*place.path, key)
            child = _unshare(node, key, shared)
            place = _Place(child, child_types, (*place.path, key))
            i += used
        elif isinstance(node, CommentedSeq):
            index = segs[i]
            if not isinstance(index, int):
                raise CatalogError(
                    f"{where}: {_describe(place.path)} is a list; use an item index "
                    f"0..{len(node) - 1} instead of '{index}'"
                )
            if index > len(node):
                span = f"0..{len(node) - 1}" if node else "none"
                raise CatalogError(
                    f"{where}: index {index} is out of range: {_describe(place.path)} has "
                    f"{len(node)} item{'s' if len(node) != 1 else ''} (indexes {span}, or {len(node)} to append)"
                )
            child_types = _child_types(place, index)
            last = i + 1 >= len(segs)
            if index == len(node):
                prev = len(node) - 1 if node else None
                node.append(value if last else _fresh_item(node))
                _move_trailing(node, prev, index)
                if last:
                    return (*place.path, index)
            elif last:
                node[index] = value
                return (*place.path, index)
            child = _unshare(node, index, shared)
            place = _Place(child, child_types, (*place.path, index))
            i += 1
        else:
            shown = "empty" if node is None else f"the value {node!r}"
            raise CatalogError(
                f"{where}: {_describe(place.path)} is {shown}, not a mapping or a list; "
                f"cannot go into '{segs[i]}'"
            )
    raise CatalogError(f"{where}: the key names no value")  # pragma: no cover - loop returns


# -- the whole operation ---------------------------------------------------------------------


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _related(a: DocPath, b: DocPath) -> int:
    """Length of the shared prefix when one path contains the other, else -1."""
    n = min(len(a), len(b))
    return n if a[:n] == b[:n] else -1


def _blame(
    text: str, edits: Sequence[Edit], paths: Sequence[DocPath], errors: list[Diagnostic]
) -> Iterator[tuple[str | None, Diagnostic]]:
    """Pair each error with the `--set` that caused it: by path, else by replaying the edits."""
    unplaced: list[Diagnostic] = []
    for diag in errors:
        scores = [_related(diag.path, p) for p in paths]
        best = max(scores, default=-1)
        if best > 0:
            yield edits[scores.index(best)].source, diag
        else:
            unplaced.append(diag)
    if not unplaced:
        return
    found: dict[tuple[DocPath, str], str] = {}
    for k in range(1, len(edits) + 1):
        partial = _edit_text(text, edits[:k])[0]
        _, diags = validate_text(partial)
        for d in diags:
            if d.severity is Severity.ERROR:
                found.setdefault((d.path, d.message), edits[k - 1].source)
    for diag in unplaced:
        yield found.get((diag.path, diag.message)), diag


def _edit_text(text: str, edits: Sequence[Edit]) -> tuple[str, list[DocPath]]:
    try:
        check_text(text)
    except YamlLimitError as exc:
        raise CatalogError(f"line {exc.line}: {exc.message}") from None
    y = _yaml()
    doc = y.load(text)
    if not isinstance(doc, CommentedMap):
        raise CatalogError("the file is not a YAML mapping")
    paths = [_apply(doc, e) for e in edits]
    out = StringIO()
    y.dump(doc, out)
    return out.getvalue(), paths


def apply_sets(text: str, sets: Sequence[str | Edit], filename: str = "<template>") -> str:
    """`text` with every `--set` applied, re-validated; CatalogError naming the culprit if not.

    Warnings are not errors: the result may still carry the model's warnings (for example a
    capacity warning after lowering `replicas`); run `validate_text` to show them.
    """
    edits = [parse_set(s) if isinstance(s, str) else s for s in sets]
    if not edits:
        return text
    out, paths = _edit_text(text, edits)
    _, diags = validate_text(out, filename)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    if errors:
        lines = []
        for source, diag in _blame(text, edits, paths, errors):
            who = f"--set {source}" if source is not None else "after the edits"
            lines.append(f"{who}: {format_path(diag.path)}: {diag.message}")
        subject = "the edit makes" if len(edits) == 1 else "the edits make"
        raise CatalogError(f"{subject} the file invalid:\n  " + "\n  ".join(dict.fromkeys(lines)))
    return out
