"""`lint` time against manifest size: seconds per MB must stay flat (issue 9, a 51 MB manifest).

Builds one multi-document file from the e-commerce template's generated tree, copied N times
with its own instance label per copy (as a large system in one namespace would be), and lints
files of growing size with one warm Linter. Prints CPU seconds per MB and the ratio to the
smallest size: a linear linter keeps the ratio near 1 (it was 4.3 at 16 MB before the rules were
indexed). CPU time, not wall time, so a busy machine does not blur the ratio.

    .venv/bin/python benchmarks/lint_scaling.py [MB ...]     # default 2 4 8 16
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from scalesim_patterns import catalog
from scalesim_patterns.generate import generate
from scalesim_patterns.generate.lint import Linter
from scalesim_patterns.model import loads


def _block() -> str:
    arch = loads(catalog.new("ecommerce"))
    files = generate(arch)
    docs = [t for p, t in sorted(files.items()) if p.endswith(".yaml") and "kustomization" not in p]
    return "---\n".join(docs)


def manifest(megabytes: float, block: str) -> str:
    parts: list[str] = []
    size, i = 0, 0
    while size < megabytes * 2**20:
        copy = re.sub(r"(\n  name: )([a-z0-9-]{1,40})[a-z0-9-]*", rf"\g<1>\g<2>-{i}", block)
        copy = copy.replace("app.kubernetes.io/instance: ", f"app.kubernetes.io/instance: c{i}-")
        parts.append(copy)
        size += len(copy)
        i += 1
    return "---\n".join(parts)


def main(sizes: list[float]) -> None:
    block = _block()
    linter = Linter(crd_paths=[])
    base: float | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for mb in sizes:
            path = Path(tmp) / f"m{mb}.yaml"
            path.write_text(manifest(mb, block), encoding="utf-8")
            real_mb = path.stat().st_size / 2**20
            started = time.process_time()
            report = linter.lint_paths([path])
            seconds = time.process_time() - started
            per_mb = seconds / real_mb
            base = base or per_mb
            print(
                f"{real_mb:6.1f} MB  {report.documents:6d} documents  {seconds:7.2f} s CPU  "
                f"{per_mb:5.2f} s/MB  ratio to smallest {per_mb / base:4.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [2, 4, 8, 16])
