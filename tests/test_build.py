"""The compiled build's guards (src/scalesim_patterns/_build.py): an extension built from another
source than the one on disk never runs, and every engine class an interpreted module subclasses
is open to interpreted subclasses (else the compiled build raises "interpreted classes cannot
inherit from compiled" on the templates that use it)."""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import scalesim_patterns
from scalesim_patterns._build import (
    COMPILED_MANIFEST,
    COMPILED_MODULES,
    has_extensions,
    manifest_text,
    stale_build,
)

PACKAGE_DIR = Path(scalesim_patterns.__file__).parent
ROOT = PACKAGE_DIR.parents[1]
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _fake_package(tmp_path: Path, extension: bool = True) -> Path:
    """Two compiled sources, a stand-in kernel extension and the manifest the build writes."""
    pkg = tmp_path / "pkg"
    (pkg / "sim" / "core").mkdir(parents=True)
    (pkg / "sim" / "core" / "kernel.py").write_text("X = 1\n")
    (pkg / "sim" / "core" / "rng.py").write_text("Y = 2\n")
    if extension:
        (pkg / "sim" / "core" / f"kernel{SUFFIX}").write_bytes(b"\0")
    text = manifest_text(pkg, ["sim/core/kernel.py", "sim/core/rng.py"])
    (pkg / COMPILED_MANIFEST).write_text(text)
    return pkg


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def test_manifest_holds_the_sha256_and_the_stat_of_each_source(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path)
    lines = (pkg / COMPILED_MANIFEST).read_text().splitlines()
    core = pkg / "sim" / "core"
    assert lines == [
        f"{hashlib.sha256(b'X = 1' + bytes([10])).hexdigest()}  sim/core/kernel.py  "
        + _stamp(core / "kernel.py"),
        f"{hashlib.sha256(b'Y = 2' + bytes([10])).hexdigest()}  sim/core/rng.py  "
        + _stamp(core / "rng.py"),
    ]


def test_a_current_build_is_used(tmp_path: Path) -> None:
    assert stale_build(_fake_package(tmp_path)) is None


def test_no_extension_means_nothing_to_check(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path, extension=False)
    (pkg / "sim" / "core" / "rng.py").write_text("Y = 3\n")
    assert stale_build(pkg) is None


def test_an_edited_source_makes_the_build_stale(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path)
    (pkg / "sim" / "core" / "rng.py").write_text("Y = 2  # edited\n")
    assert stale_build(pkg) == "sim/core/rng.py changed since the compiled engine was built"


def test_a_source_rewritten_with_its_size_and_modification_time_is_hashed(tmp_path: Path) -> None:
    """The stamp's change time is the clock's at the write, which `utime` cannot set back."""
    pkg = _fake_package(tmp_path)
    rng = pkg / "sim" / "core" / "rng.py"
    before = rng.stat()
    while rng.stat().st_ctime_ns == before.st_ctime_ns:  # the next tick of the file clock
        rng.write_text("Y = 3\n")
        os.utime(rng, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert rng.stat().st_size == before.st_size
    assert stale_build(pkg) == "sim/core/rng.py changed since the compiled engine was built"


def test_an_unchanged_stamp_is_trusted_and_a_line_without_one_is_hashed(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path)
    manifest = pkg / COMPILED_MANIFEST
    wrong = "0" * 64 + manifest.read_text()[64:]  # the kernel's digest no longer matches
    manifest.write_text(wrong)
    assert stale_build(pkg) is None  # its stamp says the file is the one the build hashed
    unstamped = "".join(line.rsplit("  ", 1)[0] + "\n" for line in wrong.splitlines())
    manifest.write_text(unstamped)  # as builds before the stamps wrote it
    assert stale_build(pkg) == "sim/core/kernel.py changed since the compiled engine was built"


def test_a_current_build_is_checked_without_hashing(tmp_path: Path) -> None:
    """Every process imports the package, and with it this check: when the stamps match, no
    source is read and `hashlib` (OpenSSL) is not even imported."""
    pkg = _fake_package(tmp_path)
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('b', {str(PACKAGE_DIR / '_build.py')!r})\n"
        "b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)\n"
        f"print(b.stale_build(b.Path({str(pkg)!r})), 'hashlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "False"]
    (pkg / "sim" / "core" / "rng.py").write_text("Y = 2  # edited\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "True"  # the edited source was hashed


def test_a_missing_manifest_or_source_makes_the_build_stale(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path)
    (pkg / "sim" / "core" / "rng.py").unlink()
    assert stale_build(pkg) == "sim/core/rng.py is missing"
    (pkg / COMPILED_MANIFEST).unlink()
    reason = stale_build(pkg)
    assert reason is not None and COMPILED_MANIFEST in reason


# ---- interpreted subclasses of compiled classes ------------------------------------------------


def _open_classes(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(every class, classes marked @mypyc_attr(allow_interpreted_subclasses=True))."""
    every, open_ = set(), set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            every.add(node.name)
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and getattr(deco.func, "id", "") == "mypyc_attr"
                    and any(
                        k.arg == "allow_interpreted_subclasses"
                        and isinstance(k.value, ast.Constant)
                        and k.value.value is True
                        for k in deco.keywords
                    )
                ):
                    open_.add(node.name)
    return every, open_


def test_compiled_classes_subclassed_elsewhere_allow_interpreted_subclasses() -> None:
    """By name: a class outside the compiled modules whose base is a class of a compiled module
    (imported directly, relatively or through a re-export) and not one of its own file's."""
    compiled = {(PACKAGE_DIR / rel).resolve() for rel in COMPILED_MODULES}
    defined: dict[str, str] = {}
    open_: set[str] = set()
    for path in sorted(compiled):
        every, marked = _open_classes(ast.parse(path.read_text()))
        defined.update({name: path.name for name in every})
        open_ |= marked
    sources = [*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    closed = []
    seen = 0
    for path in sources:
        if path.resolve() in compiled:
            continue
        tree = ast.parse(path.read_text())
        local = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for base in node.bases:
                name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                if name in defined and name not in local:
                    seen += 1
                    if name not in open_:
                        closed.append(f"{path.name}: {node.name}({defined[name]}:{name})")
    assert closed == []
    assert seen >= 5, f"the scan found {seen} engine subclasses, fewer than exist today"


def _is_type_variable(value: ast.expr) -> bool:
    """`TypeVar(...)` and the like: a typing construct, which cannot be `Final`."""
    return isinstance(value, ast.Call) and getattr(value.func, "id", "") in {"TypeVar", "NewType"}


def _unfinal_constants(tree: ast.Module) -> list[str]:
    """Module-level UPPER_CASE names bound once, without `Final` (type variables excepted)."""
    bound: dict[str, int] = {}
    plain: list[tuple[str, int]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = bound.get(target.id, 0) + 1
                    if not _is_type_variable(node.value):
                        plain.append((target.id, node.lineno))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            bound[name] = bound.get(name, 0) + 1
            if node.value is not None and "Final" not in ast.unparse(node.annotation):
                plain.append((name, node.lineno))
    return [
        f"{name} (line {line})"
        for name, line in plain
        if bound[name] == 1 and name == name.upper() and any(ch.isalpha() for ch in name)
    ]


def test_constants_of_compiled_modules_are_final() -> None:
    """mypyc inlines a `Final` module constant (or keeps it in a C static); any other module
    global is a dictionary look-up and an unboxing at every use, in the hottest code there is
    (`PENDING`, `OK`, the histogram's `OFFSET` were 7 % of the reference model's time)."""
    missing = []
    for rel in COMPILED_MODULES:
        tree = ast.parse((PACKAGE_DIR / rel).read_text())
        missing += [f"{rel}: {m}" for m in _unfinal_constants(tree)]
    assert missing == []


def test_the_final_scan_sees_a_plain_constant() -> None:
    tree = ast.parse("A = 1\nB: Final = 2\nC: int = 3\nT = TypeVar('T')\n_D = A\nx = 4\n")
    assert _unfinal_constants(tree) == ["A (line 1)", "C (line 3)", "_D (line 5)"]


# ---- the real build: an edited source is not shadowed by its extension ---------------------------


def _real_build() -> bool:
    if has_extensions(PACKAGE_DIR) and stale_build(PACKAGE_DIR) is None:
        return True
    if os.environ.get("SCALESIM_REQUIRE_COMPILED") == "1":
        raise AssertionError("SCALESIM_REQUIRE_COMPILED=1 but no current compiled engine")
    return False


def _run(src: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SCALESIM_PURE"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import scalesim_patterns as s, scalesim_patterns.sim; print(s.compiled())",
        ],
        env={**env, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        check=True,
        cwd=src,
    )


def test_editing_a_compiled_source_falls_back_to_pure_python(tmp_path: Path) -> None:
    if not _real_build():
        pytest.skip("no current compiled engine here (make install builds it)")
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_DIR, src / "scalesim_patterns", ignore=shutil.ignore_patterns("web"))
    for runtime in PACKAGE_DIR.parent.glob(f"*__mypyc{SUFFIX}"):
        shutil.copy2(runtime, src)
    untouched = _run(src)
    assert untouched.stdout.strip() == "True", untouched.stderr
    assert "RuntimeWarning" not in untouched.stderr
    steps = src / "scalesim_patterns" / "sim" / "network" / "steps.py"
    steps.write_text(steps.read_text() + "\n# edited after the build\n")
    edited = _run(src)
    assert edited.stdout.strip() == "False"
    assert "sim/network/steps.py changed since the compiled engine was built" in edited.stderr
    assert "running the pure-Python engine" in edited.stderr
