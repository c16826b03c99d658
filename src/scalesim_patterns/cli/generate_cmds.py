"""`scalesim generate` and `scalesim lint`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scalesim_patterns.generate.lint import LintReport, default_crd_paths, lint_paths

from .main import cli, err, fail, out


def _labels(items: tuple[str, ...]) -> list[tuple[str, str]]:
    """`--prometheus-label KEY=VALUE` values, refused (exit 2) without `=`."""
    labels: list[tuple[str, str]] = []
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            fail(f"--prometheus-label {item!r}: expected KEY=VALUE, e.g. release=prometheus")
        labels.append((key, value))
    return labels


def _lint_report(
    paths: list[Path],
    crds: tuple[str, ...],
    kube_version: str | None,
    prometheus_labels: list[tuple[str, str]] | None = None,
) -> LintReport:

    crd_paths = [Path(c) for c in crds] if crds else default_crd_paths()
    for c in crd_paths:
        if not c.exists():
            fail(f"--crds {c}: no such file or folder")
    try:
        return lint_paths(
            paths,
            crd_paths=crd_paths,
            kube_version=kube_version,
            prometheus_labels=prometheus_labels or (),
        )
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
@click.option(
    "--prometheus-label",
    "prometheus_labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="Label your Prometheus operator selects ServiceMonitors, PodMonitors and "
    "PrometheusRules by (SSP075); default: a Prometheus object's selectors in the set, else the "
    "labels most of them carry.",
)
def lint_cmd(
    paths: tuple[str, ...],
    crds: tuple[str, ...],
    kube_version: str | None,
    as_json: bool,
    prometheus_labels: tuple[str, ...],
) -> None:
    """Validate manifests offline: strict schemas, CRD schemas, best-practice rules. Exit 2 on errors."""
    report = _lint_report([Path(p) for p in paths], crds, kube_version, _labels(prometheus_labels))
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
@click.option(
    "--namespace",
    help="Namespace of the base and the prod overlay (default: metadata.namespace, else the "
    "name); system namespaces are refused.",
)
@click.option(
    "--dev-namespace",
    help="Namespace of the dev overlay (default: <namespace>-dev); must differ from prod's.",
)
@click.option("--kong-namespace", default="kong", show_default=True, help="Namespace of Kong.")
@click.option(
    "--monitoring-namespace",
    default="monitoring",
    show_default=True,
    help="Namespace of Prometheus.",
)
@click.option(
    "--istio-namespace", default="istio-system", show_default=True, help="Namespace of istiod."
)
@click.option(
    "--prometheus-label",
    "prometheus_labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="Label the Prometheus operator selects ServiceMonitors/PodMonitors/PrometheusRules by "
    "(repeatable); default release=kube-prometheus-stack.",
)
@click.option("--ingress-class", default="kong", show_default=True, help="IngressClass of Kong.")
@click.option(
    "--tls-issuer",
    default="letsencrypt",
    show_default=True,
    help="cert-manager ClusterIssuer of the gateway's certificate.",
)
@click.option(
    "--auth-issuer",
    help="OIDC issuer URL whose JWTs the gateway accepts (default https://auth.<gateway domain>).",
)
@click.option("--auth-jwks-uri", help="The issuer's JWKS URL (default: OpenID discovery).")
def generate_cmd(
    file: str,
    output: str,
    force: bool,
    crds: tuple[str, ...],
    no_lint: bool,
    registry: str | None,
    namespace: str | None,
    dev_namespace: str | None,
    kong_namespace: str,
    monitoring_namespace: str,
    istio_namespace: str,
    prometheus_labels: tuple[str, ...],
    ingress_class: str,
    tls_issuer: str,
    auth_issuer: str | None,
    auth_jwks_uri: str | None,
) -> None:
    """Generate Kubernetes, Kong, Istio, Argo Rollouts and observability manifests, then lint them."""
    from scalesim_patterns.generate import (
        GenerateError,
        GenerateOptions,
        WriteRefused,
        generate,
        write_secrets,
        write_tree,
    )

    from .main import load_or_exit

    arch = load_or_exit(file)
    if registry is not None:
        from scalesim_patterns.generate.kube_values import image_reference

        problem = image_reference(f"{registry}/service:1.0.0")
        if problem is not None:
            fail(f"--registry {registry!r}: images under it would be invalid: {problem}")
    labels = _labels(prometheus_labels)
    try:
        if namespace is not None:
            arch = arch.model_copy(
                update={"metadata": arch.metadata.model_copy(update={"namespace": namespace})}
            )
        options = GenerateOptions(
            registry=registry or f"localhost:5000/{arch.namespace}",
            dev_namespace=dev_namespace,
            kong_namespace=kong_namespace,
            monitoring_namespace=monitoring_namespace,
            istio_namespace=istio_namespace,
            ingress_class=ingress_class,
            tls_issuer=tls_issuer,
            auth_issuer=auth_issuer,
            auth_jwks_uri=auth_jwks_uri,
            prometheus_labels=tuple(labels) or GenerateOptions.prometheus_labels,
        )
        files = generate(arch, options)
        report = write_tree(files, Path(output), force=force)
        secrets = write_secrets(Path(output), files)
    except (GenerateError, WriteRefused) as exc:
        fail(str(exc).replace("pass force", "pass --force"))
    except OSError as exc:
        fail(str(exc))
    err.print(secrets.summary(), markup=False)
    err.print(report.summary(), markup=False)
    if no_lint:
        return
    lint = _lint_report([Path(output)], crds, None, list(options.prometheus_labels))
    if lint.ok:
        err.print(f"validated: {lint.summary()}", markup=False)
    else:
        out.print(lint.render_text(), end="", markup=False)
        sys.exit(2)
