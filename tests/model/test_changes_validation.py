"""Misused scheduled changes (`scenarios.<name>.changes`) are errors that point at the field."""

from __future__ import annotations

import textwrap

import pytest

from scalesim_patterns.model import Severity, validate_text

BASE = textwrap.dedent(
    """\
    apiVersion: scalesim.dev/v1alpha1
    kind: Architecture
    metadata: {name: mini}
    spec:
      gateway:
        routes:
          - {path: /shop, endpoint: old.h}
      services:
        old:
          endpoints: {h: {work: 2ms}}
        new:
          endpoints: {h: {work: 2ms}}
        scaled:
          autoscaling: {minReplicas: 1, maxReplicas: 3, target: 70}
          endpoints: {h: {work: 2ms}}
        canaried:
          replicas: 2
          deployment:
            strategy: canary
            startAt: 30s
            newVersion: {version: 2.0.0}
            canary: {steps: [{setWeight: 10}, {pause: {}}], trafficRouting: replicas}
          endpoints: {h: {work: 2ms}}
      traffic:
        users:
          arrival: {process: poisson, rate: 5/s}
          mix: [{route: /shop}]
      simulation: {duration: 100s, warmup: 0s}
      scenarios:
        s:
          changes:
    """
)


def diags(*changes: str) -> list[str]:
    text = BASE + "".join(f"        - {c}\n" for c in changes)
    _arch, found = validate_text(text, "arch.yaml")
    return [str(d) for d in found]


def errors(*changes: str) -> list[str]:
    return [d for d in diags(*changes) if ": error: " in d]


def test_good_changes_are_clean() -> None:
    assert (
        diags(
            "{type: route-weights, at: 10s, route: /shop, split: [{endpoint: old.h, weight: 50}, "
            "{endpoint: new.h, weight: 50}]}",
            "{type: replicas, at: 20s, service: old, replicas: 3}",
            "{type: promote, at: 40s, service: canaried}",
            "{type: abort, at: 50s, service: canaried}",
            "{type: config, at: 60s, target: new.h, errorRate: 0.1}",
        )
        == []
    )


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            "{type: route-weights, at: 1s, route: /shp, split: [{endpoint: new.h, weight: 100}]}",
            "changes[0].route",
            "no gateway route '/shp'; did you mean '/shop'?",
        ),
        (
            "{type: route-weights, at: 1s, route: /shop, split: [{endpoint: nw.h, weight: 100}]}",
            "changes[0].split[0].endpoint",
            "unknown service 'nw'",
        ),
        (
            "{type: route-weights, at: 1s, route: /shop, split: [{endpoint: new.h, weight: 90}]}",
            "changes[0]",
            "split weights must sum to 100, got 90",
        ),
        (
            "{type: replicas, at: 1s, service: scaled, replicas: 2}",
            "changes[0].service",
            "has an autoscaler",
        ),
        (
            "{type: replicas, at: 1s, service: canaried, replicas: 2}",
            "changes[0].service",
            "under a canary rollout",
        ),
        (
            "{type: promote, at: 40s, service: old}",
            "changes[0].service",
            "no canary or blue-green rollout to promote",
        ),
        (
            "{type: abort, at: 10s, service: canaried}",
            "changes[0].at",
            "starts at 30s (deployment.startAt)",
        ),
        (
            "{type: config, at: 1s, target: new.x, work: 1ms}",
            "changes[0].target",
            "service 'new' has no endpoint 'x'",
        ),
        (
            "{type: config, at: 1s, target: new.h}",
            "changes[0]",
            "a config change sets `work`, `errorRate` or both",
        ),
        (
            "{type: rescale, at: 1s, service: new}",
            "changes[0]",
            "type",
        ),
    ],
)
def test_misuse_is_an_error_at_the_field(change: str, where: str, message: str) -> None:
    found = errors(change)
    assert found, change
    assert any(where in d and message in d for d in found), found


def test_two_changes_of_one_thing_at_one_time_are_an_error() -> None:
    found = errors(
        "{type: replicas, at: 5s, service: old, replicas: 3}",
        "{type: replicas, at: 5s, service: old, replicas: 1}",
    )
    assert any("changes[1].at" in d and "change 0 changes the same thing" in d for d in found)


def test_a_change_after_the_run_ends_is_a_warning() -> None:
    found = diags("{type: replicas, at: 200s, service: old, replicas: 3}")
    assert len(found) == 1
    assert ": warning: " in found[0] and "never happens" in found[0]
    assert "arch.yaml:" in found[0]


def test_messages_carry_the_line_of_the_change() -> None:
    _arch, found = validate_text(
        BASE + "        - {type: replicas, at: 1s, service: nope, replicas: 3}\n", "arch.yaml"
    )
    (d,) = [d for d in found if d.severity is Severity.ERROR]
    assert d.line == BASE.count("\n") + 1
