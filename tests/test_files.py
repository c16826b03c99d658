"""Single-file writes (`--json`, `schema -o`, `new -o`): regular files only, umask, atomic."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scalesim_patterns.files import (
    OutputExistsError,
    OutputNotWritableError,
    UnsafeOutputError,
    check_output_dir,
    check_output_file,
    is_own_temporary,
    write_text_atomic,
)


def _special(tmp_path: Path, kind: str) -> Path:
    target = tmp_path / kind
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        target.symlink_to(victim)
    elif kind == "dangling-symlink":
        target.symlink_to(tmp_path / "nowhere")
    elif kind == "directory":
        target.mkdir()
    return target


@pytest.mark.parametrize("kind", ["fifo", "symlink", "dangling-symlink", "directory"])
@pytest.mark.parametrize("force", [False, True])
def test_non_regular_targets_are_refused_even_with_force(
    tmp_path: Path, kind: str, force: bool
) -> None:
    target = _special(tmp_path, kind)
    before = target.lstat().st_mode
    with pytest.raises(UnsafeOutputError, match="only regular files"):
        check_output_file(target, force=force)
    with pytest.raises(UnsafeOutputError):
        write_text_atomic(target, "x", force=force)
    assert stat.S_IFMT(target.lstat().st_mode) == stat.S_IFMT(before)
    assert (tmp_path / "victim.txt").read_text() == "precious"
    assert not list(tmp_path.glob(".*tmp"))


def test_existing_regular_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(OutputExistsError, match="--force"):
        check_output_file(target)
    with pytest.raises(OutputExistsError):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert check_output_file(target, force=True) == target
    write_text_atomic(target, "new", force=True)
    assert target.read_text() == "new"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o007])
def test_mode_follows_umask_and_existing_mode_is_kept(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        target = tmp_path / "new" / "r.json"
        write_text_atomic(target, "1")
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
        os.chmod(target, 0o604)
        write_text_atomic(target, "2", force=True)
        assert stat.S_IMODE(target.stat().st_mode) == 0o604
    finally:
        os.umask(old)


def test_unwritable_parent_is_reported_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != ro)
    with pytest.raises(OutputNotWritableError, match="not writable"):
        check_output_file(ro / "deeper" / "r.json")
    with pytest.raises(OutputNotWritableError):
        check_output_dir(ro / "csv")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputNotWritableError, match="not a folder"):
        check_output_file(tmp_path / "file" / "r.json")
    with pytest.raises(UnsafeOutputError):
        check_output_dir(tmp_path / "file")
    assert check_output_file(tmp_path / "fine.json") == tmp_path / "fine.json"
    assert check_output_file("relative-name.json", force=True) == Path("relative-name.json")


def test_write_error_is_a_clear_oserror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(OutputNotWritableError, match="permission denied"):
        write_text_atomic(tmp_path / "r.json", "x")


def test_interrupted_write_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(a: object, b: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(tmp_path / "r.json", "x")
    assert list(tmp_path.iterdir()) == []


def test_own_temporaries_are_recognised_and_nothing_else() -> None:
    assert is_own_temporary(".r.json.0123456789abcdef.scalesim-tmp")
    assert is_own_temporary(".a.yaml.abcd1234.tmp", {"a.yaml"})
    assert not is_own_temporary(".a.yaml.abcd1234.tmp", {"b.yaml"})
    assert not is_own_temporary(".a.yaml.abcd1234.tmp")
    assert not is_own_temporary("draft.tmp", {"draft"})
    assert not is_own_temporary(".r.json.0123.scalesim-tmp")
