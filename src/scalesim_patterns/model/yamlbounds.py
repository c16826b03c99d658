"""Read YAML from people we do not trust, in bounded time and memory.

A YAML file of 15 bytes (`a: &a [*a, *a]`) or a few hundred (the "billion laughs") expands into
more nodes than any machine holds, and a path such as `/dev/zero` never ends. Every reader of user
YAML in ScaleSim Patterns (the architecture loader, `--set` values, the manifest linter) goes
through here first, so the limits are the same everywhere and each refusal says which limit was
hit and how to lift it.

The check streams parser events once (linear in the text, no node graph kept): it counts the nodes
that aliases add when expanded, refuses an alias to the collection it sits in (a recursive
structure that every later walk would follow forever), and refuses nesting deeper than the
walkers that come after can follow without running out of stack.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_LIMITS",
    "InputLimits",
    "YamlLimitError",
    "check_text",
    "printable",
    "read_text",
    "safe_load_value",
]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class InputLimits:
    """How much a YAML input may hold. `None` lifts a limit.

    `max_bytes` caps the size of a file read; `max_alias_nodes` caps the nodes that aliases add
    once expanded (over a whole stream); `max_depth` caps nesting.
    """

    max_bytes: int | None = 8 * 1024 * 1024
    max_alias_nodes: int | None = 100_000
    max_depth: int | None = 200


DEFAULT_LIMITS = InputLimits()
"""The limits every reader uses unless a caller passes its own (see docs/limits.md)."""


class YamlLimitError(ValueError):
    """The input is beyond a limit; `line` and `column` point at where it was found (1-based)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"


def read_text(path: str | os.PathLike[str], limits: InputLimits = DEFAULT_LIMITS) -> str:
    """The UTF-8 text of `path`, reading no more than `limits.max_bytes` (plus one) bytes.

    Raises YamlLimitError for a larger input (whatever kind of file it is, `/dev/zero` included),
    and OSError or UnicodeDecodeError as reading does.
    """
    cap = limits.max_bytes
    with Path(path).open("rb") as f:
        data = f.read() if cap is None else f.read(cap + 1)
    if cap is not None and len(data) > cap:
        raise YamlLimitError(
            f"the input is larger than {_size(cap)}, the limit for one file "
            "(InputLimits.max_bytes in the Python API; see docs/limits.md)"
        )
    return data.decode("utf-8")


def _mark(event: Any) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def check_text(text: str, limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Raise YamlLimitError when `text` is beyond `limits`; syntax errors are left to the parser.

    Linear in the length of the text: each alias adds the size its anchor was counted at.
    """
    if limits.max_bytes is not None and len(text) > limits.max_bytes:
        raise YamlLimitError(
            f"the input is larger than {_size(limits.max_bytes)}, the limit for one file "
            "(InputLimits.max_bytes in the Python API; see docs/limits.md)"
        )
    budget = limits.max_alias_nodes
    max_depth = limits.max_depth
    sizes: dict[str, int] = {}
    open_anchors: set[str] = set()
    stack: list[list[Any]] = []  # [anchor or None, nodes so far]
    expanded = 0
    loader = _Loader(text)
    try:
        while True:
            try:
                event = loader.get_event()
            except yaml.YAMLError:
                return  # the parser proper reports syntax errors, with its own wording
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, yaml.DocumentStartEvent):
                sizes.clear()  # anchors do not cross documents
                continue
            if isinstance(event, yaml.AliasEvent):
                name = str(event.anchor)
                if name in open_anchors:
                    raise YamlLimitError(
                        f"alias *{printable(name)} refers to the collection it is inside of; "
                        "recursive structures are not supported",
                        *_mark(event),
                    )
                size = sizes.get(name, 1)
                expanded += size
                if budget is not None and expanded > budget:
                    raise YamlLimitError(
                        f"aliases expand to more than {budget:,} nodes (the alias budget; "
                        "InputLimits.max_alias_nodes in the Python API; see docs/limits.md)",
                        *_mark(event),
                    )
                if stack:
                    stack[-1][1] += size
                continue
            if isinstance(event, yaml.CollectionStartEvent):
                if max_depth is not None and len(stack) >= max_depth:
                    raise YamlLimitError(f"nested more than {max_depth} levels deep", *_mark(event))
                anchor = event.anchor
                if anchor is not None:
                    open_anchors.add(str(anchor))
                stack.append([anchor, 1])
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, count = stack.pop()
                if anchor is not None:
                    sizes[str(anchor)] = count
                    open_anchors.discard(str(anchor))
                if stack:
                    stack[-1][1] += count
                continue
            if isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[str(event.anchor)] = 1
                if stack:
                    stack[-1][1] += 1
    finally:
        loader.dispose()


def safe_load_value(text: str, limits: InputLimits = DEFAULT_LIMITS) -> Any:
    """One small YAML value (a `--set` right-hand side), bounded like a file.

    Raises YamlLimitError for anything beyond the limits or a number too long to read (Python
    converts integers of at most 4300 digits), and yaml.YAMLError for syntax.
    """
    check_text(text, limits)
    try:
        return yaml.load(text, Loader=_Loader)  # a safe loader (CSafeLoader)
    except (ValueError, OverflowError) as exc:
        if "digits" in str(exc):
            raise YamlLimitError(
                "a number too long to read (more than 4300 digits); quote it to mean text"
            ) from None
        raise YamlLimitError(f"cannot read the value: {exc}") from None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with control characters (ESC, bidi overrides...) escaped, safe to echo to a
    terminal: a key such as `\\x1b[2J` must be shown, not obeyed."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
