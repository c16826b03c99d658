"""Load, validate and write architecture files.

Validation runs in two passes, and reports everything it finds in both: the structure (pydantic,
every field checked against the schema) and then the meaning (references, cycles, capacity),
which only makes sense on a structurally valid file.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path as FsPath
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .architecture import Architecture
from .checks import check_architecture
from .diagnostics import ArchitectureError, Diagnostic, Path, Severity
from .series_files import resolve_series_files
from .units import STRICT_UNITS
from .yamlbounds import DEFAULT_LIMITS, InputLimits, YamlLimitError, read_text
from .yamlpos import Document, parse_yaml

__all__ = ["dump", "load", "loads", "validate", "validate_text"]


def validate_text(
    text: str,
    filename: str = "<string>",
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    base_dir: str | FsPath | None = None,
) -> tuple[Architecture | None, list[Diagnostic]]:
    """Parse and check a document; never raises for bad input.

    `limits` bounds the input (size, alias expansion, nesting); see docs/limits.md. `base_dir`
    is the folder files the document names (recorded arrival series) are read from; without
    it, a document naming a file is refused.
    """
    doc = parse_yaml(text, limits)
    diags = [
        Diagnostic(p.line, p.column, Severity.ERROR, p.path, p.message, filename)
        for p in doc.problems
    ]
    if doc.data is None and not diags:
        diags.append(
            Diagnostic(
                1, 1, Severity.ERROR, (), "the file is empty; expected an Architecture", filename
            )
        )
    if diags:
        return None, sorted(diags)
    if not isinstance(doc.data, dict):
        return None, [
            Diagnostic(
                1,
                1,
                Severity.ERROR,
                (),
                "expected a mapping with apiVersion, kind, metadata, spec",
                filename,
            )
        ]
    try:
        arch = Architecture.model_validate(doc.data, context={STRICT_UNITS: True})
    except ValidationError as exc:
        return None, sorted(_structural(exc, doc, filename))
    problems = resolve_series_files(arch, FsPath(base_dir) if base_dir is not None else None)
    if problems:
        return None, sorted(
            Diagnostic(*doc.position(path), Severity.ERROR, path, message, filename)
            for path, message in problems
        )
    diags = [
        Diagnostic(*doc.position(path), severity, path, message, filename)
        for severity, path, message in check_architecture(arch)
    ]
    return arch, sorted(diags)


def validate(
    path: str | FsPath, *, limits: InputLimits = DEFAULT_LIMITS
) -> tuple[Architecture | None, list[Diagnostic]]:
    """Check a file. The architecture is None when any error was found."""
    p = FsPath(path)
    try:
        text = read_text(p, limits)
    except YamlLimitError as exc:
        return None, [Diagnostic(1, 1, Severity.ERROR, (), exc.message, str(p))]
    except UnicodeDecodeError as exc:
        return None, [
            Diagnostic(
                1,
                1,
                Severity.ERROR,
                (),
                f"cannot read file: not UTF-8 text (byte {exc.start}: {exc.reason})",
                str(p),
            )
        ]
    except OSError as exc:
        return None, [
            Diagnostic(1, 1, Severity.ERROR, (), f"cannot read file: {exc.strerror or exc}", str(p))
        ]
    arch, diags = _checked(text, str(p), limits, p.parent)
    if any(d.severity is Severity.ERROR for d in diags):
        return None, diags
    return arch, diags


def _checked(
    text: str, filename: str, limits: InputLimits, base_dir: FsPath | None = None
) -> tuple[Architecture | None, list[Diagnostic]]:
    """validate_text, with any exception the checks did not foresee turned into a diagnostic:
    the promise is that bad input gives ArchitectureError, never another exception."""
    try:
        return validate_text(text, filename, limits=limits, base_dir=base_dir)
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        message = f"cannot check the file: {type(exc).__name__}: {exc}"
        return None, [Diagnostic(1, 1, Severity.ERROR, (), message, filename)]


def loads(
    text: str, filename: str = "<string>", *, limits: InputLimits = DEFAULT_LIMITS
) -> Architecture:
    """The architecture in `text`; ArchitectureError listing every problem otherwise."""
    arch, diags = _checked(text, filename, limits)
    if arch is None or any(d.severity is Severity.ERROR for d in diags):
        raise ArchitectureError(diags)
    return arch


def load(path: str | FsPath, *, limits: InputLimits = DEFAULT_LIMITS) -> Architecture:
    """The architecture in `path`; ArchitectureError listing every problem otherwise.

    No other exception escapes for a bad file; `limits` bounds the input (docs/limits.md).
    """
    arch, diags = validate(path, limits=limits)
    if arch is None:
        raise ArchitectureError(diags)
    return arch


def dump(arch: Architecture) -> str:
    """YAML of what the user set (defaults stay implicit), in camelCase, keys in model order."""
    data = arch.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data = {"apiVersion": arch.api_version, "kind": arch.kind, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# -- structural errors -------------------------------------------------------------------------


def _structural(exc: ValidationError, doc: Document, filename: str) -> list[Diagnostic]:
    out: dict[tuple[Path, str], Diagnostic] = {}
    for err in exc.errors(include_url=False):
        path = _data_path(doc.data, err["loc"])
        message = _message(err, path, doc.data)
        line, col = doc.position(path)
        out.setdefault(
            (path, message), Diagnostic(line, col, Severity.ERROR, path, message, filename)
        )
    return list(out.values())


def _data_path(data: Any, loc: tuple[int | str, ...]) -> Path:
    """Follow pydantic's location through the data, dropping union tags it inserts."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str) and part not in node:
            following = loc[i + 1] if i + 1 < len(loc) else None
            if _is_tag(node, part) or (isinstance(following, str) and following in node):
                continue
        if isinstance(node, dict) and isinstance(part, str):
            if part in node:
                path.append(part)
                node = node[part]
            elif _looks_like_field(part):
                path.append(part)  # a missing required field
                node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
    return tuple(path)


def _is_tag(node: dict[str, Any], part: str) -> bool:
    """pydantic names the union member it tried; that name is not a key of the file."""
    tags = {str(node.get(k)) for k in ("type", "process", "style") if k in node}
    return part in tags or part.endswith("-step") or not _looks_like_field(part)


def _looks_like_field(part: str) -> bool:
    return not any(c in part for c in "[]-,") and part not in _MODEL_NAMES


def _message(err: Any, path: Path, data: Any) -> str:
    kind = err["type"]
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        allowed = _allowed_keys(path[:-1], data)
        hint = ""
        import difflib  # for a misspelt key only: a valid file does without it

        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean '{close[0]}'?"
        elif allowed:
            hint = f"; valid keys here: {', '.join(sorted(allowed))}"
        return f"unknown key '{key}'{hint}"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        return msg.replace("Input tag", "value").replace("found using", "for")
    if kind in ("string_type", "int_type", "float_type") and isinstance(
        err.get("input"), int | float | str
    ):
        return f"{msg} (got {err['input']!r}{'; quote it if it is text' if kind == 'string_type' else ''})"
    return msg


# -- which keys are valid at a place (for did-you-mean) ----------------------------------------

_MODEL_NAMES: set[str] = set()


def _collect_model_names(tp: Any, seen: set[Any]) -> None:
    if tp in seen:
        return
    seen.add(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        _MODEL_NAMES.add(tp.__name__)
        for f in tp.model_fields.values():
            _collect_model_names(f.annotation, seen)
        return
    for arg in get_args(tp):
        _collect_model_names(arg, seen)


_collect_model_names(Architecture, set())


def _candidates(tp: Any) -> list[Any]:
    """The concrete types a field annotation may hold (unions and Annotated unpacked)."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _candidates(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [c for a in get_args(tp) for c in _candidates(a)]
    return [tp]


def _field_map(model: type[BaseModel]) -> dict[str, Any]:
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _allowed_keys(path: Path, data: Any) -> list[str]:
    types_here: list[Any] = [Architecture]
    node = data
    for part in path:
        nxt: list[Any] = []
        for tp in types_here:
            for cand in _candidates(tp):
                origin = get_origin(cand)
                if isinstance(cand, type) and issubclass(cand, BaseModel) and isinstance(part, str):
                    fm = _field_map(cand)
                    if part in fm:
                        nxt.append(fm[part])
                elif origin is dict and isinstance(part, str):
                    nxt.append(get_args(cand)[1])
                elif origin is list and isinstance(part, int):
                    nxt.append(get_args(cand)[0])
        types_here = nxt
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (
                node[part]
                if isinstance(node, list) and isinstance(part, int) and part < len(node)
                else None
            )
        )
    models = [
        c
        for tp in types_here
        for c in _candidates(tp)
        if isinstance(c, type) and issubclass(c, BaseModel)
    ]
    if not models:
        return []
    keys = set(node) if isinstance(node, dict) else set()
    best = max(models, key=lambda m: len(keys & set(_field_map(m))))
    return list(_field_map(best))
