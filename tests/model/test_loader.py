"""Every kind of mistake a user can make, each in a file that contains it."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pytest

from scalesim_patterns.model import (
    ArchitectureError,
    Severity,
    dump,
    json_schema,
    loads,
    validate_text,
)

BASE = textwrap.dedent(
    """\
    apiVersion: scalesim.dev/v1alpha1
    kind: Architecture
    metadata:
      name: mini
      patterns: [database-per-service]
    spec:
      services:
        front:
          replicas: 2
          workers: 4
          endpoints:
            home:
              work: {type: exponential, mean: 5ms}
              steps:
                - call: back.get
                  timeout: 200ms
                - query: front-db
        back:
          endpoints:
            get:
              work: 2ms
              steps:
                - query: back-db
                - publish: changed
        listener:
          endpoints:
            on-changed:
              work: 1ms
      databases:
        front-db: {engine: postgresql, owner: front}
        back-db: {engine: redis, owner: back}
      brokers:
        bus:
          topics:
            changed:
              consumers: [{service: listener, endpoint: on-changed}]
      traffic:
        users:
          arrival: {process: poisson, rate: 50/s}
          mix:
            - endpoint: front.home
    """
)


def errors(text: str) -> list[str]:
    _arch, diags = validate_text(text, "arch.yaml")
    return [str(d) for d in diags if d.severity is Severity.ERROR]


def warnings(text: str) -> list[str]:
    _, diags = validate_text(text, "arch.yaml")
    return [str(d) for d in diags if d.severity is Severity.WARNING]


def test_the_base_document_is_valid_and_clean() -> None:
    arch, diags = validate_text(BASE, "arch.yaml")
    assert arch is not None
    assert diags == []
    assert arch.spec.services["front"].endpoints["home"].steps[0].timeout == pytest.approx(0.2)  # type: ignore[union-attr]


def test_unknown_key_names_line_column_path_and_suggests() -> None:
    found = errors(BASE.replace("timeout: 200ms", "timout: 200ms"))
    assert found == [
        "arch.yaml:16:15: error: spec.services.front.endpoints.home.steps[0].timout: "
        "unknown key 'timout'; did you mean 'timeout'?"
    ]


def test_unknown_key_without_close_match_lists_valid_keys() -> None:
    (msg,) = errors(BASE.replace("      replicas: 2\n", "      flavour: 2\n"))
    assert "unknown key 'flavour'" in msg
    assert "valid keys here:" in msg and "workers" in msg and "replicas" in msg


def test_number_without_unit_is_rejected_with_forms() -> None:
    (msg,) = errors(BASE.replace("rate: 50/s", "rate: 50"))
    assert msg.startswith("arch.yaml:39:35:")
    assert "spec.traffic.users.arrival.rate" in msg and "'500/s'" in msg


def test_wrong_enum_value_lists_the_valid_ones() -> None:
    (msg,) = errors(BASE.replace("engine: redis", "engine: oracle"))
    assert "spec.databases.back-db.engine" in msg
    assert "'postgresql'" in msg and "'redis'" in msg


def test_out_of_range_value() -> None:
    (msg,) = errors(BASE.replace("workers: 4", "workers: 0"))
    assert (
        "arch.yaml:10:" in msg
        and "spec.services.front.workers" in msg
        and "greater than or equal to 1" in msg
    )


def test_missing_required_field() -> None:
    (msg,) = errors(BASE.replace("          work: 2ms\n", ""))
    assert "spec.services.back.endpoints.get.work: required field is missing" in msg


def test_unknown_service_in_call_is_a_reference_error() -> None:
    (msg,) = errors(BASE.replace("call: back.get", "call: bak.get"))
    assert msg == (
        "arch.yaml:15:15: error: spec.services.front.endpoints.home.steps[0].call: "
        "unknown service 'bak' in call 'bak.get'; did you mean 'back'?"
    )


def test_unknown_endpoint_topic_database() -> None:
    text = BASE.replace("call: back.get", "call: back.gte").replace(
        "publish: changed", "publish: chnged"
    )
    text = text.replace("- query: back-db", "- query: bck-db")
    found = errors(text)
    assert len(found) == 3
    assert any("service 'back' has no endpoint 'gte'; did you mean 'get'?" in m for m in found)
    assert any("unknown topic 'chnged'; did you mean 'changed'?" in m for m in found)
    assert any("unknown database 'bck-db'; did you mean 'back-db'?" in m for m in found)


def test_synchronous_call_cycle_is_reported_with_its_path() -> None:
    text = BASE.replace(
        "            - publish: changed\n",
        "            - publish: changed\n            - call: front.home\n",
    )
    (msg,) = errors(text)
    assert "synchronous call cycle: back.get -> front.home -> back.get" in msg


def test_database_of_another_service_warns_under_database_per_service() -> None:
    text = BASE.replace("- query: front-db", "- query: back-db")
    (msg,) = warnings(text)
    assert "owned by 'back'" in msg and "database per service" in msg
    # without the pattern, sharing is a choice, not a mistake
    assert warnings(text.replace("patterns: [database-per-service]", "patterns: []")) == []


def test_capacity_warning_names_replicas_needed() -> None:
    # A thread is held for the whole response, with no queueing (lognormal mean = p50·e^(σ²/2)):
    # back.get = 2ms + redis read 0.419ms + kafka publish 2.91ms = 5.33ms;
    # front.home = 5ms + hop 0.5ms + 5.33ms + postgresql read 2.24ms = 13.07ms.
    # At 2000/s: front 26.1 worker-s/s over 4 workers/replica -> 7 replicas; back 10.7 over 8 -> 2.
    text = BASE.replace("rate: 50/s", "rate: 2000/s")
    found = warnings(text)
    assert len(found) == 2
    assert "spec.services.front.replicas" in found[0] and "26.1 worker-seconds" in found[0]
    assert "at least 7 replicas" in found[0]
    assert "spec.services.back.replicas" in found[1] and "at least 2 replicas" in found[1]
    assert warnings(BASE.replace("rate: 50/s", "rate: 250/s")) == []


def test_capacity_warning_counts_a_scenarios_scale() -> None:
    # 50/s scaled by 40 in the scenario is the 2000/s above: front needs 7 replicas there.
    text = BASE + "  scenarios:\n    peak:\n      traffic: {users: {scale: 40}}\n"
    found = warnings(text)
    assert len(found) == 2
    assert "scenario 'peak'" in found[0] and "spec.services.front.replicas" in found[0]
    assert "26.1 worker-seconds" in found[0] and "at least 7 replicas" in found[0]
    assert warnings(BASE + "  scenarios:\n    calm:\n      traffic: {users: {scale: 2}}\n") == []


def test_capacity_warning_counts_closed_loop_users() -> None:
    # 2000 users thinking 0.5 s offer at most 2000 / (0.5 + 0.01307) = 3898 requests/s to
    # front.home (13.07 ms with no queueing), 50.9 worker-seconds per second over 8 workers.
    closed = BASE.replace(
        "arrival: {process: poisson, rate: 50/s}", "users: 2000\n      thinkTime: 500ms"
    )
    found = warnings(closed)
    assert any("spec.services.front.replicas" in m and "50.9 worker-seconds" in m for m in found), (
        found
    )
    assert warnings(closed.replace("users: 2000", "users: 20")) == []


def test_duplicate_key_is_an_error() -> None:
    text = BASE.replace("      replicas: 2\n", "      replicas: 2\n      replicas: 3\n")
    (msg,) = errors(text)
    assert "key 'replicas' appears twice (first on line 9)" in msg


def test_yaml_syntax_error_has_a_position() -> None:
    (msg,) = errors(BASE.replace("rate: 50/s}", "rate: 50/s"))
    assert msg.startswith("arch.yaml:") and "YAML syntax" in msg


def test_ten_mistakes_report_ten_errors() -> None:
    text = (
        BASE.replace("timeout: 200ms", "timout: 200ms")
        .replace("workers: 4", "workers: 0")
        .replace("rate: 50/s", "rate: 50")
        .replace("engine: redis", "engine: oracle")
        .replace("replicas: 2", "replicas: many")
        .replace("mean: 5ms", "mean: 5")
        .replace("owner: front}", "owner: front, pool: -1}")
        .replace("partitions", "partitions")
        .replace("kind: Architecture", "kind: Archtecture")
        .replace("name: mini", "name: Mini_Shop")
        .replace("- endpoint: front.home", "- endpoint: front.home\n          weight: -3")
    )
    assert len(errors(text)) == 10


def test_loads_raises_with_every_diagnostic() -> None:
    with pytest.raises(ArchitectureError) as info:
        loads(BASE.replace("workers: 4", "workers: 0").replace("engine: redis", "engine: oracle"))
    assert len(info.value.diagnostics) == 2
    assert "2 errors" in str(info.value)


@pytest.mark.parametrize("text", ["", "[1, 2]", "just text", "apiVersion: v1\n"])
def test_not_an_architecture_at_all(text: str) -> None:
    arch, diags = validate_text(text, "x.yaml")
    assert arch is None and diags and all(d.severity is Severity.ERROR for d in diags)


def test_yaml_11_keys_stay_text() -> None:
    text = BASE.replace(
        "              timeout: 200ms\n",
        "              timeout: 200ms\n              fallback: {on: [timeout]}\n",
    )
    arch = loads(text)
    step = arch.spec.services["front"].endpoints["home"].steps[0]
    assert step.fallback is not None and step.fallback.on == ["timeout"]  # type: ignore[union-attr]


def test_dump_round_trips_and_keeps_only_what_was_set() -> None:
    arch = loads(BASE)
    text = dump(arch)
    again = loads(text)
    assert again == arch
    assert "queueCapacity" not in text and "workers: 4" in text and "timeout: 200ms" in text


def test_json_schema_accepts_the_base_and_rejects_a_bad_field() -> None:
    import yaml

    schema = json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(BASE))) == []
    bad = yaml.safe_load(BASE.replace("timeout: 200ms", "timout: 200ms"))
    assert list(validator.iter_errors(bad))
    json.dumps(schema)  # serialisable as a published schema


def test_fault_replicas_only_for_crash_and_outage_of_a_service() -> None:
    scenarios = (
        "  scenarios:\n"
        "    s:\n"
        "      faults:\n"
        "        - {type: errors, target: back, rate: 0.5, replicas: 1}\n"
        "        - {type: outage, target: back-db, replicas: 1}\n"
        "        - {type: outage, target: front, replicas: 3}\n"
        "        - {type: outage, target: front, replicas: 2}\n"
    )
    found = errors(BASE + scenarios)
    assert len(found) == 3
    assert "only crash and outage faults take `replicas`" in found[0]
    assert "applies to an outage of a service" in found[1]
    assert "'front' has at most 2 replicas" in found[2]


def test_dead_letter_topic_must_exist_and_limits_must_mean_something() -> None:
    text = BASE.replace(
        "          consumers: [{service: listener, endpoint: on-changed}]\n",
        "          consumers: [{service: listener, endpoint: on-changed}]\n"
        "          deadLetter: chnged.dlq\n"
        "        changed.dlq: {}\n",
    )
    (msg,) = errors(text)
    assert "deadLetter: unknown topic 'chnged.dlq'; did you mean 'changed.dlq'?" in msg
    zero = BASE.replace(
        "          consumers: [{service: listener, endpoint: on-changed}]\n",
        "          consumers: [{service: listener, endpoint: on-changed}]\n"
        "          maxDeliveries: 0\n",
    )
    (msg,) = errors(zero)
    assert "maxDeliveries is at least 1 (-1 for unlimited)" in msg
