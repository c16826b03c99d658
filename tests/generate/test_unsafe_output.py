"""Text from the architecture file never reaches PromQL, Go templates, a shell or a system
namespace unquoted (issue 9): each language is checked with its own parser or rules."""

from __future__ import annotations

import copy
import re
import shlex
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim_patterns.generate import GenerateError, GenerateOptions, generate
from scalesim_patterns.generate.escape import (
    RESERVED_NAMESPACES,
    check_http_path,
    go_template_text,
    promql_matcher,
    promql_string,
    re2_quote,
    shell,
)
from scalesim_patterns.generate.render import dump_documents
from scalesim_patterns.model import loads

from .helpers import GOLDEN_INPUT

BASE: dict[str, Any] = yaml.safe_load(GOLDEN_INPUT.read_text(encoding="utf-8"))

_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _decode_promql_string(literal: str) -> str:
    """Decode a double-quoted PromQL (Go) string literal; fail on anything that would end it early."""
    assert literal[0] == literal[-1] == '"', literal
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        c = body[i]
        assert c != '"', f"unescaped quote in {literal!r}"
        assert c != "\n", f"raw newline in {literal!r}"
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in "\\\"'":
            out.append(nxt)
            i += 2
        elif nxt in _GO_ESCAPES:
            out.append(_GO_ESCAPES[nxt])
            i += 2
        elif nxt == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise AssertionError(f"unknown escape \\{nxt} in {literal!r}")
    text = "".join(out)
    # JSON writes characters outside the BMP as surrogate pairs; Go decodes them the same way.
    return text.encode("utf-16", "surrogatepass").decode("utf-16")


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_promql_strings_hold_any_text(value: str) -> None:
    assert _decode_promql_string(promql_string(value)) == value


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_re2_quote_matches_exactly_itself(value: str) -> None:
    pattern = re.compile(re2_quote(value))
    assert pattern.fullmatch(value)
    assert not pattern.fullmatch(value + "x")


@pytest.mark.parametrize(
    "value", ['/orders"} or vector(1) or {a="', "a\\", '\\"', "a\nb", "x{{ $labels }}"]
)
def test_promql_matcher_examples(value: str) -> None:
    matcher = promql_matcher("http_route", value)
    assert _decode_promql_string(matcher.removeprefix("http_route=")) == value


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_shell_words_stay_one_word(value: str) -> None:
    assert shlex.split(f"kafka-topics.sh --topic {shell(value)} --x") == [
        "kafka-topics.sh",
        "--topic",
        value,
        "--x",
    ]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_go_template_text_opens_no_action(value: str) -> None:
    rendered = go_template_text(value)
    # Every '{{' left is exactly one of ours, which prints a literal '{{'.
    assert re.sub(r'\{\{"\{\{"\}\}', "", rendered).count("{{") == 0
    assert re.sub(r'\{\{"\{\{"\}\}', "{{", rendered) == value


def _arch(mutate: Any) -> Any:
    data = copy.deepcopy(BASE)
    mutate(data)
    return loads(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    "namespace",
    [*sorted(RESERVED_NAMESPACES), "kube-anything", "openshift-monitoring"],
)
def test_system_namespaces_are_refused(namespace: str) -> None:
    arch = _arch(lambda d: d["metadata"].__setitem__("namespace", namespace))
    with pytest.raises(GenerateError, match="system namespace"):
        generate(arch)


def test_namespace_named_by_the_options_is_refused_and_others_pass() -> None:
    arch = _arch(lambda d: d["metadata"].__setitem__("namespace", "edge"))
    with pytest.raises(GenerateError, match="system namespace"):
        generate(arch, GenerateOptions(kong_namespace="edge"))
    assert generate(arch)  # an ordinary namespace generates


def _kafka_topic(name: str) -> Any:
    def mutate(d: dict[str, Any]) -> None:
        broker = next(b for b in d["spec"]["brokers"].values() if b["type"] == "kafka")
        old = next(iter(broker["topics"]))
        broker["topics"][name] = broker["topics"].pop(old)
        for svc in d["spec"]["services"].values():
            for ep in svc.get("endpoints", {}).values():
                for step in ep.get("steps", []):
                    if step.get("publish") == old:
                        step["publish"] = name

    return _arch(mutate)


def test_shell_metacharacters_in_a_kafka_topic_are_refused() -> None:
    with pytest.raises(GenerateError, match="not a Kafka topic name"):
        generate(_kafka_topic("t$(touch pwned)"))


def test_readme_commands_are_shell_words() -> None:
    readme = generate(_kafka_topic("orders.v2_placed-x"))["README.md"]
    commands = [line.strip() for line in readme.splitlines() if "kafka-topics.sh" in line]
    assert commands
    for command in commands:
        words = shlex.split(command)
        assert words[words.index("--topic") + 1] == "orders.v2_placed-x"


@pytest.mark.parametrize(
    "path",
    [
        '/orders"} or vector(1) or {a="',
        "/~/admin.*",
        "/admin*",
        "/a//b",
        "/a/..",
        "/a%2fb",
        "/a b",
        "/a\nb",
        "orders",
        "/a\\b",
        "/{id}",
    ],
)
def test_unsafe_route_paths_are_refused(path: str) -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["spec"]["gateway"]["routes"][0]["path"] = path
        for source in d["spec"]["traffic"].values():
            for entry in source.get("mix", []):
                if entry.get("route") == "/users":
                    entry["route"] = path
        for slo in d["spec"].get("slos", []):
            if slo.get("target") == "/users":
                slo["target"] = path

    try:
        arch = _arch(mutate)
    except Exception:  # the model refused it first: also fine
        return
    with pytest.raises(GenerateError, match="cannot be used as an HTTP path"):
        generate(arch)


_PATH_TEXT = st.text(alphabet="/aZ09-._~!$&'()*+,;=:@%{}\"\\ \n\x1b`|", max_size=12)


@settings(max_examples=150, deadline=None)
@given(path=_PATH_TEXT)
def test_accepted_paths_hold_no_quoting_hazard(path: str) -> None:
    try:
        check_http_path("p", path)
    except GenerateError:
        return
    assert path.startswith("/")
    assert not set(path) & set('"\\ \n\x1b`|*{}')
    assert not path.startswith("/~")


def test_regex_metacharacters_in_a_route_are_quoted_in_promql() -> None:
    path = "/orders+v(2)$"

    def mutate(d: dict[str, Any]) -> None:
        old = d["spec"]["slos"][0]["target"]
        for route in d["spec"]["gateway"]["routes"]:
            if route["path"] == old:
                route["path"] = path
        for source in d["spec"]["traffic"].values():
            for entry in source.get("mix", []):
                if entry.get("route") == old:
                    entry["route"] = path
        for slo in d["spec"]["slos"]:
            if slo.get("target") == old:
                slo["target"] = path

    files = generate(_arch(mutate))
    rules = yaml.safe_load(files["base/observability/prometheusrule.yaml"])
    exprs = [r["expr"] for g in rules["spec"]["groups"] for r in g["rules"]]
    routes = [m.group(1) for e in exprs for m in re.finditer(r'http_route=~("(?:[^"\\]|\\.)*")', e)]
    ours = [literal for literal in routes if "orders" in literal]
    assert ours
    for literal in ours:
        regex = _decode_promql_string(literal)
        assert re.fullmatch(regex, path) and re.fullmatch(regex, path + "/x")
        assert not re.fullmatch(regex, "/ordersv2")


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5), st.text())
def test_yaml_output_round_trips_any_text(labels: dict[str, str], value: str) -> None:
    doc = {"metadata": {"name": value, "labels": labels}, "data": {value: value}}
    assert yaml.safe_load(dump_documents([doc])) == doc
