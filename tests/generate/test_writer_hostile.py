"""write_tree against a hostile or damaged output folder (issue 9): nothing outside is touched,
nothing but regular files is replaced, and an interrupted run of ours is recovered."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalesim_patterns.generate import MANIFEST, WriteRefused, write_tree
from scalesim_patterns.generate.writer import UnsafePathError

FILES = {"README.md": "# x\n", "base/a.yaml": "a: 1\n", "base/sub/b.yaml": "b: 2\n"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _add_entries(out: Path, entries: dict[str, str]) -> None:
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].update(entries)
    (out / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "entry", ["../victim.txt", "ABS", "base/../../victim.txt", "./../victim.txt"]
)
def test_manifest_entry_outside_the_folder_is_ignored_never_deleted(
    tmp_path: Path, entry: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    write_tree(FILES, out)
    name = str(victim) if entry == "ABS" else entry
    _add_entries(out, {name: _sha(b"precious")})  # the digest matches: only the path protects it
    report = write_tree(FILES, out)
    assert victim.read_text() == "precious"
    assert report.ignored == [name]
    assert "outside the folder ignored" in report.summary()
    assert name not in json.loads((out / MANIFEST).read_text())["files"]


# Paths drawn from the characters that can make a path leave a folder.
_segments = st.text(alphabet="./\\ab~\x00", min_size=0, max_size=6)
_paths = st.lists(_segments, min_size=1, max_size=5).map("/".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(_paths, min_size=1, max_size=6))
def test_random_manifest_entries_never_reach_outside(tmp_path: Path, entries: list[str]) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    (root / "top").mkdir(parents=True)
    outside = {root / "victim", root / "top" / "victim"}
    for v in outside:
        v.write_text("v")
    out = root / "top" / "out"
    write_tree(FILES, out)
    _add_entries(out, {e: _sha(b"v") for e in entries})
    try:
        report = write_tree({"README.md": "# y\n"}, out)
    except WriteRefused:
        report = None
    for v in outside:
        assert v.read_text() == "v"
    if report is not None:
        for rel in report.removed:
            assert (out / rel).resolve().is_relative_to(out.resolve())


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rel=_paths)
def test_random_tree_paths_are_written_inside_or_refused(tmp_path: Path, rel: str) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    out = root / "out"
    before = set(tmp_path.rglob("*"))
    try:
        write_tree({rel: "x\n"}, out, force=True)
    except UnsafePathError:
        return
    assert (out / rel).resolve().is_relative_to(out.resolve())
    assert {p for p in tmp_path.rglob("*") if not p.is_relative_to(out)} == before | {root}


def test_symlinked_folder_inside_the_tree_is_refused_even_forced(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    write_tree(FILES, out)
    for p in sorted((out / "base").rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    (out / "base").rmdir()
    (out / "base").symlink_to(elsewhere)
    with pytest.raises(WriteRefused, match="base is a symbolic link"):
        write_tree(FILES, out, force=True)
    assert list(elsewhere.iterdir()) == []
    # stale entries behind the link are not deleted through it either
    (elsewhere / "a.yaml").write_text("a: 1\n")
    report = write_tree({"README.md": "# x\n"}, out)
    assert (elsewhere / "a.yaml").read_text() == "a: 1\n"
    assert "base/a.yaml" in report.ignored


@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_non_regular_targets_are_never_replaced(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    target = out / "base/a.yaml"
    target.unlink()
    victim = tmp_path / "victim"
    victim.write_text("v")
    if kind == "fifo":
        os.mkfifo(target)  # reading it would block forever: the writer must not open it
    elif kind == "symlink":
        target.symlink_to(victim)
    else:
        target.mkdir()
    for force in (False, True):
        with pytest.raises(WriteRefused, match=r"base/a\.yaml"):
            write_tree({**FILES, "base/a.yaml": "a: 2\n"}, out, force=force)
    mode = target.lstat().st_mode
    assert {"fifo": stat.S_ISFIFO, "symlink": stat.S_ISLNK, "directory": stat.S_ISDIR}[kind](mode)
    assert victim.read_text() == "v"


def test_manifest_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / MANIFEST)
    with pytest.raises(WriteRefused, match="not a regular file"):
        write_tree(FILES, out, force=True)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_respect_the_umask_and_replaced_files_keep_their_mode(
    tmp_path: Path, umask: int
) -> None:
    old = os.umask(umask)
    try:
        out = tmp_path / "out"
        write_tree(FILES, out)
        for rel in [*FILES, MANIFEST]:
            assert stat.S_IMODE((out / rel).stat().st_mode) == 0o666 & ~umask
        os.chmod(out / "base/a.yaml", 0o640)
        write_tree({**FILES, "base/a.yaml": "a: 2\n"}, out)
        assert stat.S_IMODE((out / "base/a.yaml").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_unwritable_folder_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    # root ignores permission bits: report what a read-only file system says instead
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != ro)
    with pytest.raises(WriteRefused, match="not writable"):
        write_tree(FILES, ro / "deploy")
    assert not (ro / "deploy").exists()


def test_error_while_writing_becomes_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device", str(tmp_path / "out/x"))

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(WriteRefused, match="No space left"):
        write_tree(FILES, tmp_path / "out")


def _killed_while_writing(files: dict[str, str], out: Path, die_at: int) -> None:
    """Run write_tree in a forked child that dies (as with kill -9) in its `die_at`-th rename."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        real = os.replace
        calls = [0]

        def dying(a: str, b: str) -> None:
            calls[0] += 1
            if calls[0] == die_at:
                os._exit(9)  # no cleanup, no finally: what kill -9 leaves
            real(a, b)

        os.replace = dying  # type: ignore[assignment]
        try:
            write_tree(files, out)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 20
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:  # never hang the suite on a stuck child
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked writer did not finish")
        time.sleep(0.01)


@pytest.mark.parametrize("die_at", [1, 3, 8])
def test_rerun_after_a_kill_recovers(tmp_path: Path, die_at: int) -> None:
    out = tmp_path / "out"
    files = {f"base/f{i}.yaml": f"i: {i} v1\n" for i in range(6)}
    _killed_while_writing(files, out, die_at)
    assert (out / MANIFEST).exists() or not out.exists() or die_at == 1
    report = write_tree(files, out)  # no force, no refusal
    assert not [p for p in out.rglob("*") if "tmp" in p.name]
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == {
        *files,
        MANIFEST,
    }
    assert report.written or report.unchanged
    # a second generation killed while replacing v1 by v2 is recovered too
    files2 = {rel: text.replace("v1", "v2") for rel, text in files.items()}
    _killed_while_writing(files2, out, die_at)
    write_tree(files2, out)
    assert all((out / rel).read_text() == text for rel, text in files2.items())
    assert not [p for p in out.rglob("*") if "tmp" in p.name]


def test_temporary_files_of_others_are_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    theirs = [out / ".notes.abcdefgh.tmp", out / "base" / "draft.tmp"]
    ours = out / "base" / ".a.yaml.abcd1234.tmp"  # the name mkstemp gave before
    for p in [*theirs, ours]:
        p.write_text("t")
    report = write_tree(FILES, out)
    assert all(p.exists() for p in theirs)
    assert not ours.exists()
    assert report.cleaned == ["base/.a.yaml.abcd1234.tmp"]
