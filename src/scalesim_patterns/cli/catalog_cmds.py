"""`scalesim catalog` and `scalesim new`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import click
from rich.table import Table

from scalesim_patterns import catalog
from scalesim_patterns.model import Architecture, validate_text

from .main import cli, err, fail, load_or_exit, out, print_diagnostics, write_or_exit

Format = Literal["text", "mermaid", "dot", "json"]


@cli.group("catalog", invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def catalog_cmd(ctx: click.Context, fmt: str) -> None:
    """List the twelve patterns by group, and the templates."""
    if ctx.invoked_subcommand is not None:
        return
    if fmt == "json":
        data = {
            "patterns": [p.model_dump(mode="json") for p in catalog.patterns()],
            "templates": [t.model_dump(mode="json") for t in catalog.templates()],
        }
        click.echo(json.dumps(data, indent=2))
        return
    for group in catalog.groups():
        table = Table(title=group.title, title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("id", style="bold cyan", no_wrap=True)
        table.add_column("pattern", no_wrap=True)
        table.add_column("what it solves")
        for p in group.patterns:
            table.add_row(p.id, p.name, p.summary)
        out.print(table)
        out.print()
    table = Table(title="Templates", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("id", style="bold cyan", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("description")
    for t in catalog.templates():
        table.add_row(t.id, t.kind, t.description)
    out.print(table)
    out.print(
        "\nShow one: scalesim catalog show saga   ·   Start one: scalesim new ecommerce -o shop.yaml"
    )


@catalog_cmd.command("show")
@click.argument("pattern_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "mermaid", "dot", "json"]),
    default="text",
    help="text: the entry and its topology; mermaid/dot/json: the topology alone.",
)
def show_cmd(pattern_id: str, fmt: Format) -> None:
    """Show a pattern (what it solves, when to use it, its topology), or the topology of a
    template (`ecommerce`) or of an architecture file of your own."""
    try:
        entry = catalog.pattern(pattern_id)
    except catalog.CatalogError as exc:
        arch = _architecture_to_draw(pattern_id)
        if arch is None:
            fail(f"{exc}; or name a template (scalesim catalog) or an architecture file")
        _show_topology(arch, fmt)
        return
    if fmt == "text":
        out.print(catalog.render_pattern(entry, "text"))
        return
    click.echo(catalog.render_pattern(entry, fmt), nl=False)


def _architecture_to_draw(name: str) -> Architecture | None:
    """A template by id, or an architecture file by path (which exits with its errors)."""
    if any(t.id == name for t in catalog.templates()):
        return catalog.template_architecture(name)
    if Path(name).is_file():
        return load_or_exit(name)
    return None


def _show_topology(arch: Architecture, fmt: Format) -> None:
    topo = catalog.topology(arch)
    if fmt == "text":
        title = arch.metadata.description or arch.name
        out.print(f"[bold]{arch.name}[/]: {title}", markup=True, highlight=False)
        out.print(catalog.render_text(topo), markup=False, highlight=False)
    elif fmt == "mermaid":
        click.echo(catalog.render_mermaid(topo), nl=False)
    elif fmt == "dot":
        click.echo(catalog.render_dot(topo), nl=False)
    else:
        click.echo(catalog.render_json(topo), nl=False)


@cli.command("new")
@click.argument("template")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to create."
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="PATH=VALUE",
    help="Shape the template, e.g. --set services.order.replicas=5 (repeatable).",
)
@click.option("--name", help="metadata.name of the new architecture.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new_cmd(
    template: str, output: str, sets: tuple[str, ...], name: str | None, force: bool
) -> None:
    """Create an architecture file from a template (see `scalesim catalog`)."""
    try:
        text = catalog.new(template, list(sets), name=name)
    except catalog.CatalogError as exc:
        fail(str(exc))
    arch, diags = validate_text(text, output)
    print_diagnostics(diags)
    if arch is None:
        fail("the result is not a valid architecture; nothing was written")
    write_or_exit(output, text, force)
    err.print(
        f"wrote {output}: {len(arch.spec.services)} services from template '{template}'. "
        f"Next: scalesim validate {output}"
    )
