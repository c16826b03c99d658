"""Write docs/brief-figures.md: the product brief's figures for every template.

Each template runs 60 s simulated (10 s warm-up, its own seed), 2 replications, so that the
verdicts have intervals; about 10 minutes on one core.

    python benchmarks/brief_table.py
"""

import io

from scalesim_patterns import catalog
from scalesim_patterns.sim import simulate

out = io.StringIO()
out.write("# The brief's figures, per template\n\n")
out.write(
    "Each template simulated for 60 s (10 s warm-up, its own seed), 2 replications, with\n"
    "`scalesim simulate <template> --brief --duration 60s --warmup 10s --replications 2`;\n"
    "verdicts as in [results-format.md](results-format.md#the-briefs-figures-brief). Regenerate\n"
    "with `python benchmarks/brief_table.py`.\n\n"
)
for t in catalog.templates():
    arch = catalog.template_architecture(t.id)
    r = simulate(arch, duration=60.0, warmup=10.0, replications=2, jobs=1)
    out.write(f"## {t.id}\n\n")
    if not r.brief:
        out.write("The brief sets no expectation for what this template uses.\n\n")
        continue
    out.write(
        "| pattern | figure | brief expects | measured | verdict | note |\n|---|---|---|---|---|---|\n"
    )
    for f in r.brief:
        if f.measured is None:
            m = "no data"
        else:
            m = (
                f"{f.measured:,.2f}"
                + (f" ± {f.half_width:,.2f}" if f.half_width is not None else "")
                + f" {f.unit}"
            )
        out.write(
            f"| {f.pattern} | {f.figure} | {f.expectation} | {m} | {f.verdict} | {f.note} |\n"
        )
    out.write("\n")
    print(t.id, flush=True)
with open("docs/brief-figures.md", "w", encoding="utf-8") as fh:
    fh.write(out.getvalue())
