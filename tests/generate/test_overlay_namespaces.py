"""Issue 13 (minor): dev and prod overlays each in their own namespace, consistently.

Kustomize's `namespace:` moves `metadata.namespace` only; every string that names the namespace
(host names, Kong's host header, Istio principals, PromQL selectors, monitors' namespace
selectors, OpenTelemetry resource attributes, install.sh's waits) must follow it. Each test
builds the overlays (kbuild.py, checked against `kubectl kustomize` where kubectl exists) and
looks for one kind of reference: before this change the dev overlay ran in the prod namespace
and every one of them failed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from scalesim_patterns.cli import generate_cmds  # noqa: F401  (registers the command)
from scalesim_patterns.cli.main import cli
from scalesim_patterns.generate import GenerateError, GenerateOptions, generate, write_tree
from scalesim_patterns.model import load

from .helpers import GOLDEN_INPUT, TEMPLATES, kubectl_kustomize
from .kbuild import build
from .synthetic import synthetic_architecture

# Namespaces of the cluster's shared components: references to them never move.
SHARED = {"kong", "monitoring", "observability", "istio-system", "kube-system"}


@pytest.fixture(scope="module", params=["shop", "synth"])
def tree(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    if request.param == "shop":
        return "shop", generate(load(GOLDEN_INPUT))
    return "synth", generate(synthetic_architecture(12))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _svc_hosts(doc: dict[str, Any]) -> list[str]:
    return [m for s in _strings(doc) for m in re.findall(r"\.([a-z0-9-]+)\.svc\.cluster\.local", s)]


def _principals(doc: dict[str, Any]) -> list[str]:
    return [m for s in _strings(doc) for m in re.findall(r"cluster\.local/ns/([a-z0-9-]+)/sa/", s)]


def _promql(doc: dict[str, Any]) -> list[str]:
    return [m for s in _strings(doc) for m in re.findall(r'\bnamespace="([^"]*)"', s)]


def _kong_host_header(doc: dict[str, Any]) -> list[str]:
    header = doc["metadata"].get("annotations", {}).get("konghq.com/host-header")
    return [header.split(".")[1]] if header else []


def _otel_attributes(doc: dict[str, Any]) -> list[str]:
    return [m for s in _strings(doc) for m in re.findall(r"service\.namespace=([a-z0-9-]+)", s)]


def _monitor_selectors(doc: dict[str, Any]) -> list[str]:
    if doc["kind"] not in ("ServiceMonitor", "PodMonitor"):
        return []
    names: list[str] = doc["spec"].get("namespaceSelector", {}).get("matchNames", [])
    return names


def _policy_namespaces(doc: dict[str, Any]) -> list[str]:
    """AuthorizationPolicy `source.namespaces` and NetworkPolicy namespace selectors by name."""
    out: list[str] = []
    if doc["kind"] == "AuthorizationPolicy":
        for rule in doc["spec"].get("rules", []):
            for src in rule.get("from", []):
                out += src["source"].get("namespaces", [])
    if doc["kind"] == "NetworkPolicy":
        text = json.dumps(doc["spec"])
        out += re.findall(r'"kubernetes.io/metadata.name": "([^"]+)"', text)
    return out


REFERENCES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "in-cluster host names (svc.<ns>.svc.cluster.local)": _svc_hosts,
    "Kong konghq.com/host-header": _kong_host_header,
    "Istio principals cluster.local/ns/<ns>/sa/...": _principals,
    'PromQL namespace="<ns>"': _promql,
    "OpenTelemetry service.namespace": _otel_attributes,
    "ServiceMonitor/PodMonitor namespaceSelector": _monitor_selectors,
    "policy namespaces": _policy_namespaces,
}


@pytest.mark.parametrize("reference", sorted(REFERENCES))
def test_each_overlay_names_its_own_namespace(
    reference: str, tree: tuple[str, dict[str, str]]
) -> None:
    prod_ns, files = tree
    extract = REFERENCES[reference]
    seen = 0
    for overlay, namespace in (("prod", prod_ns), ("dev", f"{prod_ns}-dev")):
        docs = build(files, f"overlays/{overlay}")
        assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {
            namespace
        }
        assert [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"] == [namespace]
        found = [ns for doc in docs for ns in extract(doc) if ns not in SHARED]
        if reference == "policy namespaces" and not found:
            continue  # NetworkPolicies pick the own namespace by podSelector alone
        seen += len(found)
        assert found and set(found) == {namespace}, (overlay, reference, set(found))
    if reference != "policy namespaces":
        assert seen


def test_the_namespace_object_keeps_its_injection_labels_in_both_overlays() -> None:
    files = generate(load(GOLDEN_INPUT))
    prod = yaml.safe_load(files["overlays/prod/namespace.yaml"])
    dev = yaml.safe_load(files["overlays/dev/namespace.yaml"])
    assert (prod["metadata"]["name"], dev["metadata"]["name"]) == ("shop", "shop-dev")
    for ns in (prod, dev):
        assert ns["metadata"]["labels"]["istio-injection"] == "enabled"
    assert yaml.safe_load(files["overlays/dev/kustomization.yaml"])["namespace"] == "shop-dev"
    assert "namespace.yaml" not in yaml.safe_load(files["base/kustomization.yaml"])["resources"]


def test_dev_namespace_option_and_refusals() -> None:
    arch = load(GOLDEN_INPUT)
    files = generate(arch, GenerateOptions(dev_namespace="shop-staging"))
    docs = build(files, "overlays/dev")
    assert {d["metadata"].get("namespace") for d in docs} == {"shop-staging", None}
    with pytest.raises(GenerateError, match="is the prod one"):
        generate(arch, GenerateOptions(dev_namespace="shop"))
    with pytest.raises(GenerateError, match="system namespace"):
        generate(arch, GenerateOptions(dev_namespace="kube-system"))
    with pytest.raises(GenerateError, match="not a valid namespace name: a lowercase RFC 1123"):
        generate(arch, GenerateOptions(dev_namespace="Bad NS"))
    # 60 characters are a valid namespace; with `-dev` they are not (63 at most).
    long = arch.model_copy(
        update={"metadata": arch.metadata.model_copy(update={"namespace": "a" * 60})}
    )
    with pytest.raises(GenerateError, match=r"'a{60}-dev'.*no more than 63"):
        generate(long)


def test_dev_namespace_flag_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "generate",
            str(TEMPLATES / "ecommerce.yaml"),
            "-o",
            str(tmp_path / "o"),
            "--namespace",
            "shop",
            "--dev-namespace",
            "shop",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "--dev-namespace" in result.output and "Traceback" not in result.output


_FAKE_KUBECTL = """#!/bin/sh
echo "$*" >> "$KUBECTL_LOG"
case "$*" in
  *"jsonpath={.metadata.labels.istio-injection}"*) printf enabled;;
esac
exit 0
"""


def test_install_script_waits_in_the_overlays_namespace(tmp_path: Path) -> None:
    import os

    files = generate(load(GOLDEN_INPUT))
    out = tmp_path / "deploy"
    write_tree(files, out)
    from scalesim_patterns.generate import write_secrets

    write_secrets(out, files)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(_FAKE_KUBECTL)
    (bin_dir / "kubectl").chmod(0o755)
    for overlay, ns in (("dev", "shop-dev"), ("prod", "shop")):
        log = tmp_path / f"{overlay}.log"
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "KUBECTL_LOG": str(log),
        }
        proc = subprocess.run(
            ["sh", str(out / "install.sh"), overlay],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        calls = log.read_text().splitlines()
        assert f"apply -f overlays/{overlay}/namespace.yaml" in calls
        assert f"wait --for=jsonpath={{.status.phase}}=Active --timeout=60s namespace/{ns}" in calls
        after = calls[calls.index(f"apply -k overlays/{overlay}") :]
        waits = [c for c in after if c.startswith("-n ")]
        assert len(waits) >= 3 and all(c.startswith(f"-n {ns} ") for c in waits), waits
        assert f"in namespace {ns}" in proc.stdout


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kbuild_agrees_with_kubectl_kustomize(tmp_path: Path) -> None:
    """Our test build against the real one (kustomize v5 in kubectl) on the e-commerce tree."""
    files = generate(load(GOLDEN_INPUT))
    for overlay, objects in kubectl_kustomize(files, tmp_path / "t").items():
        real = [d for d in objects if d["kind"] != "Secret"]
        ours = build(files, f"overlays/{overlay}")
        key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
        assert sorted(map(key, real)) == sorted(map(key, ours))
        mine = {key(d): _chomp(d) for d in ours}
        for doc in real:
            assert _chomp(doc) == mine[key(doc)], key(doc)


def _chomp(value: Any) -> Any:
    """Strings without their final newline: kustomize v5 drops it from a block scalar that ends
    a patch (PromQL and config text mean the same with or without it)."""
    if isinstance(value, str):
        return value.rstrip("\n")
    if isinstance(value, dict):
        return {k: _chomp(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_chomp(v) for v in value]
    return value
