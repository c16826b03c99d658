"""lint against hostile input (issue 9): unreadable files fail, values the API server refuses are
errors, malformed CRDs and recursive aliases are findings, and terminal output stays inert."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim_patterns.generate import kube_values as kv
from scalesim_patterns.generate.lint import CrdSchemas, Linter, LintReport
from scalesim_patterns.generate.lint.loader import LintInputError
from scalesim_patterns.terminal import printable


@pytest.fixture(scope="module")
def bare() -> Linter:
    return Linter(crd_paths=[])


def _rules(report: LintReport) -> set[str]:
    return {f.rule for f in report.errors}


@pytest.mark.parametrize(
    "content",
    [
        os.urandom(0) + bytes(range(128, 256)) * 4,  # never UTF-8
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: café, namespace: x}\n".encode("latin-1"),
        b"\xff\xfe" + "kind: ConfigMap\n".encode("utf-16-le"),
    ],
)
def test_unreadable_files_are_reported_and_fail(
    tmp_path: Path, bare: Linter, content: bytes
) -> None:
    (tmp_path / "bad.yaml").write_bytes(content)
    report = bare.lint_paths([tmp_path])
    assert report.files == 1
    assert not report.ok
    [error] = report.errors
    assert error.rule == "SSP100" and error.file.endswith("bad.yaml")
    assert "not UTF-8" in error.message


def test_random_bytes_always_fail(tmp_path: Path, bare: Linter) -> None:
    for seed in range(20):
        data = bytes((seed * 7919 + i * 104729) % 256 for i in range(512))
        (tmp_path / "r.yaml").write_bytes(data)
        report = bare.lint_paths([tmp_path / "r.yaml"])
        assert not report.ok and report.files == 1


def test_fifo_is_never_opened(tmp_path: Path, bare: Linter) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    report = bare.lint_paths([tmp_path])  # inside a folder: reported, not read
    assert [e.message for e in report.errors] == [
        "not a regular file (a FIFO, socket or device); not read"
    ]
    with pytest.raises(LintInputError, match="not a regular file"):
        bare.lint_paths([tmp_path / "pipe.yaml"])  # named directly: a usage error


@pytest.mark.parametrize(
    "text",
    ["a: &a [*a]\n", "x: &x {k: [*x]}\n", "a: &a {b: &b [*a]}\n", "- &a [1, [*a]]\n"],
)
def test_recursive_aliases_are_a_finding(tmp_path: Path, bare: Linter, text: str) -> None:
    (tmp_path / "a.yaml").write_text(text)
    report = bare.lint_paths([tmp_path])
    assert _rules(report) == {"SSP100"}
    # The bounded reader (model/yamlbounds.py) refuses it before the manifest is parsed.
    assert "refers to the collection it is inside of" in report.errors[0].message


_INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  ingressClassName: kong
  rules:
    - host: {host}
      http:
        paths:
          - path: {path}
            pathType: Prefix
            backend: {{service: {{name: web, port: {{number: 80}}}}}}
"""


@pytest.mark.parametrize(
    ("host", "path", "field"),
    [
        ('"*"', "/a", "spec.rules[0].host"),
        ('"shop.example.com\\nX: 1"', "/a", "spec.rules[0].host"),
        ('"10.0.0.1"', "/a", "spec.rules[0].host"),
        ('"*.*.example.com"', "/a", "spec.rules[0].host"),
        ("shop.example.com", "/a//b", "spec.rules[0].http.paths[0].path"),
        ("shop.example.com", "/a/..", "spec.rules[0].http.paths[0].path"),
        ("shop.example.com", "/a%2Fb", "spec.rules[0].http.paths[0].path"),
    ],
)
def test_ingress_values_the_api_server_refuses(
    tmp_path: Path, bare: Linter, host: str, path: str, field: str
) -> None:
    (tmp_path / "i.yaml").write_text(_INGRESS.format(host=host, path=path))
    report = bare.lint_paths([tmp_path])
    assert [(f.rule, f.path) for f in report.findings if f.rule == "SSP052"] == [("SSP052", field)]


def test_valid_ingress_values_pass(tmp_path: Path, bare: Linter) -> None:
    (tmp_path / "i.yaml").write_text(_INGRESS.format(host='"*.example.com"', path="/api/v1"))
    report = bare.lint_paths([tmp_path])
    assert not [f for f in report.findings if f.rule.startswith("SSP05")]


_POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: shop
  labels: {{{label_key}: {label_value}}}
  annotations: {{{annotation}: x}}
spec:
  containers:
    - name: app
      image: {image}
      ports: [{{containerPort: {port}, name: {port_name}}}]
      readinessProbe: {{httpGet: {{path: {probe}, port: http}}}}
"""
_GOOD = {
    "name": "web",
    "label_key": "app.kubernetes.io/name",
    "label_value": "web",
    "annotation": "example.com/note",
    "image": "registry.example.com/shop/web:1.0.0",
    "port": "8080",
    "port_name": "http",
    "probe": "/health",
}


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("name", "Bad_Name", "SSP050"),
        ("name", "a" * 254, "SSP050"),
        ("label_key", '"bad key!"', "SSP051"),
        ("label_key", '"a/b/c"', "SSP051"),
        ("label_value", '"bad value!"', "SSP051"),
        ("label_value", "x" * 64, "SSP051"),
        ("annotation", '"Bad Key"', "SSP051"),
        ("image", '"evil image; rm -rf /"', "SSP053"),
        ("image", '"Registry/UPPER:1"', "SSP053"),
        ("image", '" web:1"', "SSP053"),
        ("port", "70000", "SSP052"),
        ("port", "0", "SSP052"),
        ("port_name", "http--x", "SSP052"),
        ("port_name", "a-very-long-port-name", "SSP052"),
        ("port_name", '"8080"', "SSP052"),
        ("probe", "health", "SSP053"),
        ("probe", '"/a b"', "SSP053"),
    ],
)
def test_pod_values_the_api_server_refuses(
    tmp_path: Path, bare: Linter, field: str, value: str, rule: str
) -> None:
    (tmp_path / "p.yaml").write_text(_POD.format(**{**_GOOD, field: value}))
    report = bare.lint_paths([tmp_path])
    assert rule in _rules(report)
    (tmp_path / "p.yaml").write_text(_POD.format(**_GOOD))
    assert not {r for r in _rules(bare.lint_paths([tmp_path])) if r.startswith("SSP05")}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=70))
def test_label_values_follow_the_apimachinery_regex(value: str) -> None:
    # IsValidLabelValue: at most 63, `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`, ASCII only.
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    valid = len(value) <= 63 and (
        value == "" or (set(value) <= allowed and value[0].isalnum() and value[-1].isalnum())
    )
    assert (kv.label_value(value) is None) == valid


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abc-.*\n1A", max_size=20))
def test_ingress_hosts_follow_the_api_server(host: str) -> None:
    labels = host.removeprefix("*.").split(".")
    label_ok = all(
        lab and lab[0] in "abc1" and lab[-1] in "abc1" and set(lab) <= set("abc1-")
        for lab in labels
    )
    wildcard = host.startswith("*.")
    valid = label_ok and "*" not in host.removeprefix("*.") and (wildcard or "*" not in host)
    assert (kv.ingress_host(host) is None) == valid


@pytest.mark.parametrize(
    "crd",
    [
        "spec: 5",
        "spec: {group: g.io, names: 5}",
        "spec: {group: g.io, names: {kind: K}, versions: 5}",
        "spec: {group: g.io, names: {kind: K}, versions: [5]}",
        "spec: {group: g.io, names: {kind: K}, versions: [{name: v1, schema: 3}]}",
        "spec: {group: g.io, names: {kind: K}, versions: [{name: v1, schema: {openAPIV3Schema: {properties: 5}}}]}",
    ],
)
def test_malformed_crds_are_clear_errors(tmp_path: Path, crd: str) -> None:
    (tmp_path / "crd.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata: {{name: ks.g.io}}\n{crd}\n"
    )
    with pytest.raises(ValueError, match=r"crd\.yaml"):
        CrdSchemas.from_paths([tmp_path])


def test_malformed_crd_document_in_linted_files_is_a_finding(tmp_path: Path, bare: Linter) -> None:
    (tmp_path / "crd.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: ks.g.io}\nspec: 5\n"
    )
    report = bare.lint_paths([tmp_path])
    assert {(f.rule, f.path) for f in report.errors} == {("SSP103", "spec")}


def test_escape_sequences_never_reach_the_terminal(tmp_path: Path, bare: Linter) -> None:
    (tmp_path / "e.yaml").write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "x\\e[2J\\u202e", namespace: s}\n'
        'data: {"k\\e]0;title\\a": v}\n'
    )
    text = bare.lint_paths([tmp_path]).render_text()
    assert "SSP050" in text
    assert not any(ord(c) < 0x20 and c != "\n" for c in text)
    assert "\u202e" not in text and "\\x1b" in text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_printable_leaves_no_control_characters(text: str) -> None:
    out = printable(text, keep_newlines=False)
    assert not [
        c for c in out if unicodedata.category(c) == "Cc" and c != "\t"
    ]  # C0, DEL, C1: ESC, CSI...
    assert not set(out) & {"\u202e", "\u2066", "\u2028", "\u2029"}


@pytest.mark.parametrize("shape", ["[%s]", "{a: %s}"])
def test_deep_nesting_is_a_finding_not_a_crash(tmp_path: Path, bare: Linter, shape: str) -> None:
    value = "1"
    for _ in range(990):
        value = shape % value
    (tmp_path / "d.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: b}}\ndata: {value}\n"
    )
    report = bare.lint_paths([tmp_path])
    # The bounded reader (model/yamlbounds.py: 200 levels) refuses it before it is parsed.
    assert [(f.rule, f.message) for f in report.errors] == [
        ("SSP100", "nested more than 200 levels deep")
    ]
