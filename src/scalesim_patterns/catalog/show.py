"""A pattern for people: the entry and the topology of its minimal template.

`render_pattern` always returns a plain `str`, never a rich renderable, and the text contains no
`[word]` sequences, so printing it through a rich console shows it verbatim. The CLI decides how
to print (`rich.markdown.Markdown(render_pattern(e, "markdown"))` for a styled view); the same
strings serve the docs and the web app.
"""

from __future__ import annotations

import textwrap
from typing import Literal

from .entry import PatternEntry
from .topology import Topology, render_dot, render_json, render_mermaid, render_text

__all__ = ["PatternFormat", "render_pattern"]

PatternFormat = Literal["text", "markdown", "mermaid", "dot", "json"]


def _wrap(text: str, width: int, indent: str = "", hang: str | None = None) -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()),
        width=width,
        initial_indent=indent,
        subsequent_indent=hang if hang is not None else indent,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def _sections(e: PatternEntry, code: str) -> list[tuple[str, list[str]]]:
    """(heading, items) in reading order; `code` quotes paths and ids (backticks or nothing)."""
    q = (lambda s: f"{code}{s}{code}") if code else (lambda s: s)
    return [
        ("Use when", e.use_when),
        ("Avoid when", e.avoid_when),
        ("Components", [f"{c.name}: {c.role}" for c in e.components]),
        ("In the architecture file", [f"{q(f.path)}: {f.meaning}" for f in e.language]),
        ("What the simulator shows", e.simulation),
        (
            "What the generator writes",
            [f"{g.kind} ({q(g.api_version)}): {g.detail}" for g in e.generation],
        ),
        (
            "Expected metrics (the product brief's expectations, not measurements)",
            [f"{m.metric}: {m.expectation}. {m.note}" for m in e.expected_metrics],
        ),
        (
            "Examples",
            [
                f"{x.name}: {x.description}"
                + (f" (template {q(x.template)})" if x.template else "")
                for x in e.examples
            ],
        ),
        ("Related", [f"{q(r.id)}: {r.why}" for r in e.related]),
        ("Not expressible yet", e.limitations),
    ]


def _text(e: PatternEntry, topo: Topology | None, width: int) -> str:
    out: list[str] = [f"{e.name} ({e.id}) · {e.group_title}", ""]
    out += _wrap(e.summary, width)
    for title, items in _sections(e, ""):
        if items:
            out.extend(["", title])
            for item in items:
                out.extend(_wrap(item, width, "  - ", "    "))
    if topo is not None:
        out.extend(["", f"Topology of the template '{e.template}'", ""])
        out.append(render_text(topo, width).rstrip())
    out.extend(["", f"Start from it:  scalesim new {e.template} -o my-{e.template}.yaml"])
    return "\n".join(out) + "\n"


def _markdown(e: PatternEntry, topo: Topology | None) -> str:
    out: list[str] = [f"## {e.name}", "", f"`{e.id}` · {e.group_title}", "", e.summary.strip()]
    for title, items in _sections(e, "`"):
        if items:
            out.extend(["", f"**{title}**", ""])
            out.extend(f"- {' '.join(i.split())}" for i in items)
    if topo is not None:
        out.extend(["", f"**Topology of the template `{e.template}`**", "", "```mermaid"])
        out.append(render_mermaid(topo).rstrip())
        out.append("```")
    out.extend(["", f"Start from it: `scalesim new {e.template} -o my-{e.template}.yaml`"])
    return "\n".join(out) + "\n"


def render_pattern(entry: PatternEntry, fmt: PatternFormat = "text", width: int = 100) -> str:
    """The pattern as a string.

    - `text`: the entry, wrapped to `width`, then a drawing of its minimal template's topology;
    - `markdown`: the entry with the topology as a Mermaid block;
    - `mermaid`, `dot`, `json`: the topology of the minimal template alone (for the entry itself
      as JSON use `entry.model_dump(by_alias=True)`).
    """
    from . import pattern_topology  # the package API reads the template; avoid an import cycle

    if fmt not in ("text", "markdown", "mermaid", "dot", "json"):
        raise ValueError(f"unknown format {fmt!r}; use text, markdown, mermaid, dot or json")
    topo = pattern_topology(entry.id) if entry.template else None
    if fmt == "text":
        return _text(entry, topo, width)
    if fmt == "markdown":
        return _markdown(entry, topo)
    assert topo is not None
    if fmt == "mermaid":
        return render_mermaid(topo)
    if fmt == "dot":
        return render_dot(topo)
    return render_json(topo)
