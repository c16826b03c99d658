"""Writing a generated tree to disk without ever clobbering someone else's files.

The rule (docs/generate.md, "Writing and overwriting"):
- Every run writes `.scalesim-manifest` listing the files it wrote with their SHA-256.
- An output directory that is missing or empty is written freely.
- A non-empty directory without our manifest is refused (unless `force`): it is not ours.
- In a directory with our manifest, our files are replaced and files we wrote before but no longer
  generate are removed. A file we wrote that was edited since (its hash no longer matches), or a
  file we would write that exists but was never ours, is a conflict: refused unless `force`.
- Files that are neither ours nor in the new tree are never touched.
Each file is written to a temporary file in its directory and renamed over the target
(`os.replace`), so readers see the old file or the new one, never a torn one.

What a hostile or damaged folder cannot make us do (issue 9):
- Manifest entries are *paths relative to the folder*: an absolute entry, one with `..`, one
  through a symbolic link, or one naming something other than a regular file is ignored (listed in
  `WriteReport.ignored`) and never deleted.
- Nothing is written through a symbolic link or over anything but a regular file, even with
  `force`: a symlinked folder inside the tree (`base -> /etc`) or a FIFO where a file goes is
  refused (`WriteRefused`), because following it would write outside the folder the user named.
  The output folder itself may be a symlink: the user named it.
- A run killed halfway (`kill -9`) is recovered by the next one: before the first file is touched
  an incomplete manifest lists both the old and the new digests of every path, so the re-run knows
  each file is ours, whichever version it holds; our temporary files are recognised by name and
  removed (nobody else's are touched).
- A folder that cannot be written (read-only, permission denied) is a `WriteRefused` with the
  reason, never an `OSError` traceback.
New files get `0666 & ~umask`; replaced files keep their permission bits.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from scalesim_patterns.files import (
    OutputNotWritableError,
    UnsafeOutputError,
    check_output_dir,
    is_own_temporary,
    write_bytes_atomic,
)
from scalesim_patterns.terminal import printable

__all__ = ["MANIFEST", "UnsafePathError", "WriteRefused", "WriteReport", "write_tree"]

MANIFEST = ".scalesim-manifest"
_FORMAT = 2
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024


class WriteRefused(RuntimeError):
    """Writing would overwrite or delete files that are not the generator's own, or cannot happen."""

    def __init__(self, message: str, conflicts: list[str]) -> None:
        super().__init__(printable(message, keep_newlines=False))  # names from the folder
        self.conflicts = conflicts


class UnsafePathError(WriteRefused, ValueError):
    """A path of the tree to write would land outside the output folder."""


@dataclass
class WriteReport:
    out_dir: Path
    written: list[str] = field(default_factory=list)
    """Created or changed."""
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """Stale files of a previous run."""
    overwritten: list[str] = field(default_factory=list)
    """Conflicting files replaced because of `force`."""
    ignored: list[str] = field(default_factory=list)
    """Manifest entries that do not name a regular file inside the folder: never touched."""
    cleaned: list[str] = field(default_factory=list)
    """Temporary files an interrupted earlier run of ours left behind, removed."""

    def summary(self) -> str:
        parts = [f"{len(self.written)} written", f"{len(self.unchanged)} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} stale removed")
        if self.overwritten:
            parts.append(f"{len(self.overwritten)} overwritten (forced)")
        if self.cleaned:
            parts.append(f"{len(self.cleaned)} temporary file(s) of an interrupted run removed")
        if self.ignored:
            shown = ", ".join(repr(e) for e in self.ignored[:3])
            parts.append(
                f"{len(self.ignored)} manifest entr{'y' if len(self.ignored) == 1 else 'ies'} "
                f"outside the folder ignored ({shown}{'…' if len(self.ignored) > 3 else ''})"
            )
        return printable(f"{self.out_dir}: " + ", ".join(parts), keep_newlines=False)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_relative_inside(rel: str) -> bool:
    """A plain relative path: no absolute start, no `..`, no empty or `.` parts, no NUL."""
    if not rel or "\x00" in rel or "\\" in rel:
        return False
    p = PurePosixPath(rel)
    if p.is_absolute() or rel.startswith("/"):
        return False
    parts = rel.split("/")
    return all(part not in ("", ".", "..") for part in parts) and MANIFEST not in parts


def _check_path(rel: str) -> None:
    if not _is_relative_inside(rel):
        raise UnsafePathError(f"refusing to write outside the output directory: {rel!r}", [rel])


@dataclass(frozen=True)
class _State:
    """What is on disk at a path of the tree, looked at without following any link."""

    digest: str | None = None
    st: os.stat_result | None = None
    unsafe: str | None = None
    """Why the path cannot be written (a symlink or non-folder on the way, or a special file)."""


def _inspect(out: Path, rel: str) -> _State:
    parts = rel.split("/")
    current = out
    for part in parts[:-1]:
        current = current / part
        try:
            st = current.lstat()
        except FileNotFoundError:
            return _State()
        if stat.S_ISLNK(st.st_mode):
            return _State(unsafe=f"{_show(out, current)} is a symbolic link")
        if not stat.S_ISDIR(st.st_mode):
            return _State(unsafe=f"{_show(out, current)} is not a folder")
    target = out / rel
    try:
        st = target.lstat()
    except FileNotFoundError:
        return _State()
    except NotADirectoryError:
        return _State(unsafe=f"{_show(out, target.parent)} is not a folder")
    if not stat.S_ISREG(st.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        return _State(st=st, unsafe=f"{_show(out, target)} is {kind}")
    return _State(digest=_digest(target.read_bytes()), st=st)


def _show(out: Path, path: Path) -> str:
    return path.relative_to(out).as_posix()


def _read_manifest(out: Path) -> tuple[dict[str, set[str]] | None, list[str]]:
    """Owned path → digests it may hold, and the entries refused because they leave the folder."""
    path = out / MANIFEST
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None, []
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused(
            f"{path} is not a regular file; remove it (a manifest is a file ScaleSim writes)",
            [MANIFEST],
        )
    if st.st_size > _MAX_MANIFEST_BYTES:
        return None, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
    except (ValueError, KeyError, TypeError):
        return None, []
    if not isinstance(files, dict):
        return None, []
    owned: dict[str, set[str]] = {}
    ignored: list[str] = []
    for rel, value in files.items():
        digests = [value] if isinstance(value, str) else value
        if not isinstance(rel, str) or not _is_relative_inside(rel):
            ignored.append(str(rel))
            continue
        if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
            continue
        owned[rel] = set(digests)
    return owned, sorted(ignored)


def _clean_temporaries(out: Path, names: set[str]) -> list[str]:
    """Remove temporary files of ours in the folders where this tree has (or had) files."""
    by_folder: dict[str, set[str]] = {"": {MANIFEST}}
    for rel in names:
        folder, _, base = rel.rpartition("/")
        by_folder.setdefault(folder, set()).add(base)
    cleaned: list[str] = []
    for folder, owned_names in sorted(by_folder.items()):
        if folder and _inspect(out, folder + "/x").unsafe is not None:
            continue
        directory = out / folder if folder else out
        try:
            entries = sorted(os.listdir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in entries:
            if not is_own_temporary(name, owned_names):
                continue
            path = directory / name
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISREG(path.lstat().st_mode):
                    path.unlink()
                    cleaned.append(f"{folder}/{name}" if folder else name)
    return cleaned


def _manifest_bytes(files: dict[str, list[str]], complete: bool) -> bytes:
    manifest = {
        "generator": "scalesim-patterns",
        "format": _FORMAT,
        "complete": complete,
        "files": {rel: d[0] if len(d) == 1 else d for rel, d in sorted(files.items())},
    }
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def _write_manifest(out: Path, files: dict[str, list[str]], complete: bool) -> None:
    target = out / MANIFEST
    try:
        existing: os.stat_result | None = target.lstat()
    except FileNotFoundError:
        existing = None
    write_bytes_atomic(target, _manifest_bytes(files, complete), existing=existing)


def write_tree(
    files: dict[str, str], out_dir: str | os.PathLike[str], force: bool = False
) -> WriteReport:
    """Write `files` (relative path → text) under `out_dir` following the rules above.

    Raises `WriteRefused` (an `UnsafePathError` for a path that leaves the folder) with a message
    for the user; nothing is written when it is raised before the first file.
    """
    out = Path(out_dir)
    for rel in files:
        _check_path(rel)
    try:
        check_output_dir(out)
    except (UnsafeOutputError, OutputNotWritableError) as exc:
        raise WriteRefused(str(exc), [str(out)]) from exc
    try:
        return _write_tree(files, out, force)
    except OSError as exc:
        where = exc.filename if exc.filename is not None else out
        raise WriteRefused(
            f"cannot write into {out}: {exc.strerror or exc} ({where}); nothing after it was written",
            [str(where)],
        ) from exc


def _write_tree(files: dict[str, str], out: Path, force: bool) -> WriteReport:
    report = WriteReport(out_dir=out)
    previous, report.ignored = _read_manifest(out) if out.is_dir() else (None, [])
    owned = previous or {}
    encoded = {rel: text.encode("utf-8") for rel, text in sorted(files.items())}
    if out.is_dir():
        report.cleaned = _clean_temporaries(out, set(owned) | set(encoded))
    non_empty = out.is_dir() and any(out.iterdir())
    if non_empty and previous is None and not force:
        raise WriteRefused(
            f"{out} is not empty and was not generated by ScaleSim Patterns "
            f"(no {MANIFEST}); choose an empty directory or pass force",
            [str(out)],
        )
    states = {rel: _inspect(out, rel) for rel in encoded}
    unsafe = sorted(f"{rel} ({s.unsafe})" for rel, s in states.items() if s.unsafe)
    conflicts: list[str] = []
    for rel, data in encoded.items():
        current = states[rel].digest
        if current is None or current == _digest(data):
            continue
        if current not in owned.get(rel, set()):
            conflicts.append(rel)
    stale: dict[str, _State] = {}
    for rel in sorted(set(owned) - set(encoded)):
        state = _inspect(out, rel)
        if state.unsafe is not None:
            report.ignored.append(rel)  # never delete through a link or anything but a file
        elif state.digest is not None:
            stale[rel] = state
            if state.digest not in owned[rel]:
                conflicts.append(rel)
    if unsafe:
        raise WriteRefused(
            f"{len(unsafe)} path(s) in {out} cannot be written without leaving the folder or "
            "replacing something that is not a regular file (even with --force): "
            + "; ".join(unsafe[:10])
            + ("…" if len(unsafe) > 10 else "")
            + ". Remove or rename them",
            unsafe,
        )
    if conflicts and not force:
        raise WriteRefused(
            f"{len(conflicts)} file(s) in {out} were edited or are not ours: "
            + ", ".join(sorted(conflicts)[:10])
            + ("…" if len(conflicts) > 10 else "")
            + "; pass force to overwrite them",
            sorted(conflicts),
        )
    report.overwritten = sorted(c for c in conflicts if c in encoded)
    final = {rel: [_digest(data)] for rel, data in encoded.items()}
    pending = {rel: sorted({*d, *owned.get(rel, set())}) for rel, d in final.items()}
    pending.update({rel: sorted(owned[rel]) for rel in stale})
    changes = any(states[rel].digest != final[rel][0] for rel in encoded) or bool(stale)
    if changes:
        out.mkdir(parents=True, exist_ok=True)
        _write_manifest(out, pending, complete=False)
    for rel, data in encoded.items():
        if states[rel].digest == final[rel][0]:
            report.unchanged.append(rel)
            continue
        write_bytes_atomic(out / rel, data, existing=states[rel].st)
        report.written.append(rel)
    for rel in stale:
        if rel in conflicts:
            continue  # edited by someone: forced runs keep it rather than delete their work
        with contextlib.suppress(FileNotFoundError):
            (out / rel).unlink()
            report.removed.append(rel)
        _prune(out, rel)
    out.mkdir(parents=True, exist_ok=True)
    _write_manifest(out, final, complete=True)
    return report


def _prune(root: Path, rel: str) -> None:
    """Remove folders emptied by stale-file removal, up to (not including) the root.

    `rel` was checked by `_inspect`: none of its folders is a link, so this stays inside `root`.
    """
    for parent in PurePosixPath(rel).parents:
        if str(parent) == ".":
            return
        try:
            (root / parent).rmdir()
        except OSError:
            return
