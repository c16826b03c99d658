"""`scalesim generate` and `scalesim lint`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scalesim_patterns.generate.lint import LintReport, default_crd_paths, lint_paths

from .main import cli, err, fail, out


def _lint_report(paths: list[Path], crds: tuple[str, ...], kube_version: str | None) -> LintReport:

    crd_paths = [Path(c) for c in crds] if crds else default_crd_paths()
    for c in crd_paths:
        if not c.exists():
            fail(f"--crds {c}: no such file or folder")
    try:
        return lint_paths(paths, crd_paths=crd_paths, kube_version=kube_version)
    except ValueError as exc:
        fail(str(exc))


@cli.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--crds",
    multiple=True,
    type=click.Path(),
    help="CRDs (kubectl get crd -o yaml output, or JSON schemas); default: $SCALESIM_CRDS or ../shared/schemas/crds.",
)
@click.option("--kube-version", help="Kubernetes version of the schemas, e.g. 1.33.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def lint_cmd(
    paths: tuple[str, ...], crds: tuple[str, ...], kube_version: str | None, as_json: bool
) -> None:
    """Validate manifests offline: strict schemas, CRD schemas, best-practice rules. Exit 2 on errors."""
    report = _lint_report([Path(p) for p in paths], crds, kube_version)
    if as_json:
        click.echo(report.to_json())
    else:
        out.print(report.render_text(), end="", markup=False)
    if not report.ok:
        sys.exit(2)


@cli.command("generate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option("--force", is_flag=True, help="Replace files in a folder ScaleSim did not write.")
@click.option("--crds", multiple=True, type=click.Path(), help="CRD schemas for the final lint.")
@click.option("--no-lint", is_flag=True, help="Skip the validation of what was written.")
@click.option(
    "--registry",
    help="Registry of the services' images (built from services/<name>/Dockerfile); "
    "default localhost:5000/<namespace>.",
)
def generate_cmd(
    file: str, output: str, force: bool, crds: tuple[str, ...], no_lint: bool, registry: str | None
) -> None:
    """Generate Kubernetes, Kong, Istio, Argo Rollouts and observability manifests, then lint them."""
    from scalesim_patterns.generate import (
        GenerateError,
        GenerateOptions,
        WriteRefused,
        generate,
        write_tree,
    )

    from .main import load_or_exit

    arch = load_or_exit(file)
    if registry is not None:
        from scalesim_patterns.generate.kube_values import image_reference

        problem = image_reference(f"{registry}/service:1.0.0")
        if problem is not None:
            fail(f"--registry {registry!r}: images under it would be invalid: {problem}")
    try:
        options = GenerateOptions(registry=registry or f"localhost:5000/{arch.namespace}")
        files = generate(arch, options)
        report = write_tree(files, Path(output), force=force)
    except (GenerateError, WriteRefused) as exc:
        fail(str(exc).replace("pass force", "pass --force"))
    err.print(report.summary(), markup=False)
    if no_lint:
        return
    lint = _lint_report([Path(output)], crds, None)
    if lint.ok:
        err.print(f"validated: {lint.summary()}", markup=False)
    else:
        out.print(lint.render_text(), end="", markup=False)
        sys.exit(2)
