"""The service code the generator writes: deterministic, policies mapped as docs/resilience.md says."""

from __future__ import annotations

import ast
import json
import math
import re
import tomllib
from pathlib import Path

import pytest

from scalesim_patterns.generate import generate
from scalesim_patterns.generate.code import service_spec, spec_json
from scalesim_patterns.generate.code.files import MEMCACHED_REQUIREMENT, RUNTIME_FILES, template
from scalesim_patterns.model import load, loads

REPO = Path(__file__).resolve().parents[3]
SHOP = REPO / "src" / "scalesim_patterns" / "catalog" / "templates" / "ecommerce.yaml"


def _services(files: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if k.startswith("services/")}


def test_every_deployed_service_gets_its_code_and_nothing_else() -> None:
    files = _services(generate(load(SHOP)))
    names = {p.split("/")[1] for p in files}
    assert names == {"notification", "order", "payment", "product", "user"}
    for name in names:
        for rel, _ in RUNTIME_FILES:
            assert f"services/{name}/{rel}" in files
        assert f"services/{name}/app/spec.py" in files
        assert f"services/{name}/Dockerfile" in files


def test_same_input_gives_byte_identical_code() -> None:
    assert _services(generate(load(SHOP))) == _services(generate(load(SHOP)))


def test_every_generated_python_file_parses() -> None:
    for path, text in _services(generate(load(SHOP))).items():
        if path.endswith(".py"):
            ast.parse(text, filename=path)


def _embedded(files: dict[str, str], name: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(compile(files[f"services/{name}/app/spec.py"], "spec.py", "exec"), namespace)
    spec = json.loads(str(namespace["SPEC_JSON"]))
    assert isinstance(spec, dict)
    return spec


def test_spec_module_holds_exactly_the_spec() -> None:
    arch = load(SHOP)
    files = generate(arch)
    for name in ("order", "user"):
        assert _embedded(files, name) == json.loads(spec_json(service_spec(arch, name)))


def test_order_to_payment_policy_is_the_files() -> None:
    spec = service_spec(load(SHOP), "order")
    breaker = spec["breakers"]["client:payment"]
    assert breaker == {
        "type": "failure-rate",
        "window_type": "count",
        "window_size": 50,
        "minimum_calls": 20,
        "failure_rate_threshold": 50.0,
        "slow_call_rate_threshold": 100.0,
        "slow_call_duration": 60.0,
        "wait_in_open": 30.0,
        "permitted_in_half_open": 5,
        "wait_multiplier": 1.0,
        "max_wait": None,
    }
    charge = next(
        s["action"] for s in spec["sagas"]["place-order"]["steps"] if s["name"] == "charge-card"
    )
    policy = charge["policy"]
    assert policy["timeout"] == pytest.approx(0.8)
    assert policy["retry"]["max_attempts"] == 2 and policy["retry"]["wait"] == pytest.approx(0.1)
    # Resilience4j retries every exception by default: every cause.
    assert set(policy["retry"]["retry_on_causes"]) == {
        "error", "timeout", "rejected", "unavailable", "circuit_open", "bulkhead_full",
        "rate_limited", "unauthorized",
    }  # fmt: skip
    assert policy["fallback"]["outcome"] == "error"
    assert charge["breaker"] == "client:payment"  # shared by every call site to payment
    refund = next(
        s["compensation"]
        for s in spec["sagas"]["place-order"]["steps"]
        if s["name"] == "charge-card"
    )
    assert refund["breaker"] == "client:payment"


def test_step_fields_override_the_client_and_own_breakers_are_their_own() -> None:
    arch = loads(
        """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: t}
spec:
  services:
    a:
      clients:
        b: {timeout: 2s, circuitBreaker: {type: consecutive, failMax: 3}, bulkhead: {maxConcurrent: 4}}
      endpoints:
        x:
          work: 1ms
          steps:
            - {call: b.y, timeout: 100ms}
            - {call: b.y, circuitBreaker: {type: consecutive, failMax: 9}}
            - {call: b.y, retry: {style: envoy, attempts: 1, retryOn: [connect-failure]}}
    b:
      endpoints:
        y: {work: 1ms, path: "/items/{id}"}
  traffic:
    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: a.x}]}
"""
    )
    spec = service_spec(arch, "a")
    first, second, third = spec["endpoints"]["x"]["steps"]
    assert first["policy"]["timeout"] == pytest.approx(0.1)
    assert first["breaker"] == "client:b" and first["bulkhead"] == "client:b"
    assert second["policy"]["timeout"] == pytest.approx(2.0)
    assert second["breaker"] == "site:x.1" and second["bulkhead"] == "client:b"
    assert spec["breakers"]["site:x.1"]["fail_max"] == 9
    assert spec["breakers"]["client:b"]["fail_max"] == 3
    assert third["policy"]["retry"] == {
        "style": "envoy",
        "attempts": 1,
        "per_try_timeout": None,
        "base_interval": 0.025,
        "max_interval": 0.25,
        "retry_on_causes": ["unavailable"],
    }
    assert first["path"] == "/items/1"


def test_lognormal_work_keeps_the_files_percentiles() -> None:
    work = service_spec(load(SHOP), "user")["endpoints"]["get"]["work"]
    assert work["kind"] == "lognormal"
    assert math.exp(work["mu"]) == pytest.approx(0.002)  # p50 2ms
    assert math.exp(work["mu"] + 2.3263478740408408 * work["sigma"]) == pytest.approx(0.012)


def test_engines_without_a_driver_are_listed_as_unsupported() -> None:
    spec = service_spec(load(SHOP), "product")
    assert spec["unsupported"] == ["products-db"]
    assert service_spec(load(SHOP), "user")["unsupported"] == []


def test_requirements_are_pinned_and_match_the_services_extra() -> None:
    pins = [
        line
        for line in template("requirements.txt.txt").splitlines()
        if line and not line.startswith("#")
    ]
    assert all(re.fullmatch(r"[a-z0-9_.\-\[\]]+==[0-9][0-9a-z.]*", p) for p in pins), pins
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["services"]
    # The extra also holds `scalesim load`'s driver, which the services do not need, and the
    # memcached client, which only services with a memcached cache list.
    assert sorted([*pins, MEMCACHED_REQUIREMENT]) == sorted(
        e for e in extra if not e.startswith("locust==")
    )


def test_dockerfile_is_pinned_and_non_root() -> None:
    files = generate(load(SHOP))
    dockerfile = files["services/order/Dockerfile"]
    base = re.search(r"^FROM (\S+)$", dockerfile, re.M)
    assert base is not None and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base.group(1))
    assert "USER 10001:10001" in dockerfile
    assert '"--port", "8080"' in dockerfile


def test_manifests_reference_the_registry_images() -> None:
    from scalesim_patterns.generate import GenerateOptions

    files = generate(load(SHOP), GenerateOptions(registry="localhost:5000/shop"))
    assert "image: localhost:5000/shop/user:1.3.0" in files["base/services/user/deployment.yaml"]
