"""Writing output files safely: atomically, only regular files, never over something the user wrote.

The rules every writer of ScaleSim Patterns follows (single files here, generated trees in
`generate/writer.py`, which builds on the same helpers):

- An existing target is replaced only with `force`, and only when it is a *regular file*. A
  symlink, directory, FIFO, socket or device node is refused even with `force`
  (`UnsafeOutputError`): replacing it by a rename would turn `/dev/full` into a file, or drop a
  link someone keeps on purpose, and writing through it (as `cp` does) could block forever on a FIFO
  or write where the user did not look. Name the real file instead.
- The text goes to a temporary file in the target's folder, which is then renamed over the target
  (`os.replace`): readers see the old file or the new one, never half of either, and an interrupted
  run leaves no truncated file.
- A new file gets the mode `0666 & ~umask`, like any file a shell redirection creates; a replaced
  file keeps its permission bits.
- The temporary files are named `.<name>.<random>.scalesim-tmp` (`is_own_temporary` recognises
  them) so a later run can clean up after a `kill -9` without touching anyone else's files.

`check_output_file` / `check_output_dir` answer "can this be written?" *before* any long work, so a
simulation does not run for minutes only to find its `--json` target unwritable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

__all__ = [
    "OutputExistsError",
    "OutputNotWritableError",
    "UnsafeOutputError",
    "check_output_dir",
    "check_output_file",
    "is_own_temporary",
    "write_bytes_atomic",
    "write_text_atomic",
]

TEMP_SUFFIX = ".scalesim-tmp"
_OWN_TEMP = r"^\.(?P<name>.+)\.[0-9a-f]{16}" + re.escape(TEMP_SUFFIX) + "$"
_LEGACY_TEMP = r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$"
"""Names `tempfile.mkstemp(prefix='.<name>.', suffix='.tmp')` gave before this module named its own.
Both patterns are compiled on first use (`re` keeps them): every `scalesim` command imports
this module, few look for temporary files."""


class OutputExistsError(FileExistsError):
    """The target exists and the caller did not pass force."""


class UnsafeOutputError(OutputExistsError):
    """The target is not a regular file (symlink, directory, FIFO, socket, device): never replaced."""


class OutputNotWritableError(PermissionError):
    """The target's folder cannot be written (read-only, not a folder, no permission)."""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    return "not a regular file"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _refuse_special(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeOutputError(
            f"{path} is {_kind(st.st_mode)}; ScaleSim writes only regular files and never "
            "replaces anything else, even with --force: choose a regular file's path"
        )


def _writable_ancestor(folder: Path) -> None:
    """The nearest existing ancestor of `folder` must be a directory we may create entries in."""
    current = folder
    while True:
        st = _lstat(current)
        if st is not None:
            break
        if current.parent == current:
            return
        current = current.parent
    if not current.is_dir():
        raise OutputNotWritableError(f"cannot write into {folder}: {current} is not a folder")
    if not os.access(current, os.W_OK | os.X_OK):
        raise OutputNotWritableError(
            f"cannot write into {folder}: {current} is not writable (permission denied or a "
            "read-only file system)"
        )


def check_output_file(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Raise unless `path` can later be written by `write_text_atomic(path, ..., force=force)`.

    Cheap (a few `stat` calls, nothing is created): call it before a long run. Raises
    `OutputExistsError` (exists, no force), `UnsafeOutputError` (not a regular file, even with
    force) or `OutputNotWritableError` (its folder cannot be written); all are `OSError`s whose
    message says what to do.
    """
    target = Path(path)
    st = _lstat(target)
    if st is not None:
        _refuse_special(target, st)
        if not force:
            raise OutputExistsError(f"{target} exists; pass --force to overwrite it")
    _writable_ancestor(target.parent if str(target.parent) else Path("."))
    return target


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """Raise `OutputNotWritableError`/`UnsafeOutputError` unless files can be written in `path`.

    The folder may be missing (it is created, with its parents); if it exists it must be a
    directory we may write (a symlink to one is accepted: the user named it). Whether files inside
    may be replaced is the writer's question, not this one's.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UnsafeOutputError(f"{folder} exists and is not a folder")
    _writable_ancestor(folder)
    return folder


def is_own_temporary(name: str, owned: set[str] | None = None) -> bool:
    """Is `name` (a bare file name) a temporary file one of our writers left behind?

    Our own pattern is unmistakable. The older `mkstemp` pattern (`.<name>.XXXXXXXX.tmp`) is
    recognised only when `<name>` is in `owned` (a file we write in that folder), so a user's
    `.notes.abcdefgh.tmp` is never taken for ours.
    """
    if re.match(_OWN_TEMP, name):
        return True
    legacy = re.match(_LEGACY_TEMP, name)
    return legacy is not None and owned is not None and legacy.group("name") in owned


def write_bytes_atomic(target: Path, data: bytes, *, existing: os.stat_result | None) -> None:
    """Write `data` to `target` through a temporary file and a rename (no checks of the target).

    `existing` is the target's `lstat` (a regular file) or None; its permission bits are kept.
    Callers check the target first (`check_output_file`, or the tree writer's own rules).
    """
    import secrets  # here, not at the top: with `hmac`, it loads OpenSSL into every command

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o666)  # the kernel applies the umask, as for `> file`
    try:
        with os.fdopen(fd, "wb") as fh:
            if existing is not None:
                os.fchmod(fh.fileno(), stat.S_IMODE(existing.st_mode))
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write `text` (UTF-8, `\\n` line ends) to `path` atomically, following the module's rules.

    Raises `OutputExistsError` / `UnsafeOutputError` / `OutputNotWritableError` (all `OSError`s)
    with a message that says what to do; other `OSError`s (disk full...) pass through.
    """
    target = Path(path)
    check_output_file(target, force=force)
    existing = _lstat(target)
    if existing is not None:
        _refuse_special(target, existing)  # appeared since the check: still never replaced
    try:
        write_bytes_atomic(target, text.encode("utf-8"), existing=existing)
    except PermissionError as exc:
        raise OutputNotWritableError(f"cannot write {target}: permission denied") from exc
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise OutputNotWritableError(f"cannot write {target}: read-only file system") from exc
        raise
    return target
