"""Choosing the Kubernetes schema version."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalesim_patterns.generate.lint import (
    DEFAULT_KUBE_VERSION,
    Linter,
    available_kube_versions,
    resolve_kube_version,
)

POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: s
spec:
  containers:
    - name: c
      image: example.com/c:1
      resizePolicy:
        - resourceName: cpu
          restartPolicy: NotRequired
"""


def test_available_versions_include_default() -> None:
    versions = available_kube_versions()
    assert DEFAULT_KUBE_VERSION == "1.33" and DEFAULT_KUBE_VERSION in versions
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


def test_resolve() -> None:
    assert resolve_kube_version(None) == "1.33"
    assert resolve_kube_version("v1.30.4") == "1.30"
    assert resolve_kube_version("1.28") == "1.28"
    with pytest.raises(ValueError):
        resolve_kube_version("1.99")
    with pytest.raises(ValueError):
        resolve_kube_version("1.10")
    with pytest.raises(ValueError):
        resolve_kube_version("latest")


def test_version_changes_what_is_accepted(tmp_path: Path) -> None:
    # container resizePolicy appeared in Kubernetes 1.27
    (tmp_path / "pod.yaml").write_text(POD)
    old = Linter(crd_paths=[], kube_version="1.26").lint_paths([tmp_path])
    new = Linter(crd_paths=[], kube_version="1.33").lint_paths([tmp_path])
    old_schema = [(f.rule, f.path) for f in old.findings if f.rule == "SSP103"]
    new_schema = [(f.rule, f.path) for f in new.findings if f.rule == "SSP103"]
    assert old_schema == [("SSP103", "spec.containers[0].resizePolicy")]
    assert new_schema == []
    assert (old.kube_version, new.kube_version) == ("1.26", "1.33")


def test_no_crd_paths_leaves_custom_resources_unchecked(tmp_path: Path) -> None:
    (tmp_path / "vs.yaml").write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        "metadata: {name: v, namespace: s}\nspec: {hosts: [a]}\n"
    )
    report = Linter(crd_paths=[]).lint_paths([tmp_path])
    assert [f.rule for f in report.findings] == ["SSP106"]
    assert report.ok and len(report.unchecked) == 1
