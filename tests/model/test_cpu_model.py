"""`cpu:` on a service (model/cpu.py): defaults from `resources`, and misuse refused with the
file's line and field."""

from __future__ import annotations

import textwrap

from scalesim_patterns.model import Severity, validate_text
from scalesim_patterns.model.cpu import CpuModel


def _file(service: str, rate: str = "10/s") -> str:
    return (
        textwrap.dedent(
            """\
        apiVersion: scalesim.dev/v1alpha1
        kind: Architecture
        metadata: {name: cpu}
        spec:
          services:
            api:
        """
        )
        + textwrap.indent(textwrap.dedent(service), " " * 6)
        + textwrap.indent(
            textwrap.dedent(
                f"""\
            traffic:
              load:
                arrival: {{process: poisson, rate: {rate}}}
                mix: [{{endpoint: api.e}}]
            """
            ),
            "  ",
        )
    )


def test_cores_and_quota_follow_the_generated_limit() -> None:
    # No cpuLimit: the generator writes twice the request, so 0.5 core → limit 1 → 1 core.
    m = CpuModel()
    assert m.parallelism(0.5, None) == 1
    assert m.quota(0.5, None) is None  # 1 core under a 1-core limit: the quota cannot bind
    assert m.parallelism(1.5, None) == 3
    assert m.parallelism(0.25, 0.5) == 1
    assert m.quota(0.25, 0.5) == 0.05  # 50 ms per 100 ms period
    assert CpuModel(cores=4).quota(1.0, 1.0) == 0.1
    assert CpuModel(gil=True).parallelism(4.0, None) == 1
    assert CpuModel(cores=2, throttling=False).capacity(0.25, 0.5) == 2.0
    assert CpuModel(cores=2).capacity(0.25, 0.5) == 0.5


def test_gil_with_several_cores_is_an_error_at_its_line() -> None:
    text = _file(
        """\
        workers: 10
        cpu: {gil: true, cores: 2}
        endpoints:
          e: {work: 10ms}
        """
    )
    arch, diags = validate_text(text, "cpu.yaml")
    assert arch is None
    [d] = [d for d in diags if d.severity is Severity.ERROR]
    assert d.line == 8
    assert "gil: true runs one thread at a time" in d.message
    assert "drop `cores`" in d.message


def test_bad_cores_and_unknown_keys() -> None:
    for body, words in (
        ("cpu: {cores: 0}", "greater than or equal to 1"),
        ("cpu: {core: 2}", "core"),
        ("cpu: {quotaPeriod: 100}", "unit"),
    ):
        text = _file(f"{body}\nendpoints:\n  e: {{work: 10ms}}\n")
        arch, diags = validate_text(text, "cpu.yaml")
        assert arch is None, body
        assert any(words in d.message for d in diags), (body, [d.message for d in diags])
        assert all(d.line == 7 for d in diags), body


def test_fewer_threads_than_cores_is_a_warning() -> None:
    text = _file("workers: 1\ncpu: {cores: 4, throttling: false}\nendpoints:\n  e: {work: 1ms}\n")
    arch, diags = validate_text(text, "cpu.yaml")
    assert arch is not None
    [d] = diags
    assert d.severity is Severity.WARNING
    assert "1 threads can keep at most 1 of the 4 cores busy" in d.message


def test_cpu_demand_above_the_cores_is_a_warning_with_the_replicas_needed() -> None:
    # 30/s of 50 ms CPU = 1.5 cores on a GIL-bound replica (1 core): 2 replicas needed.
    text = _file(
        "workers: 100\ncpu: {gil: true}\nresources: {cpu: 1}\nendpoints:\n  e: {work: 50ms}\n",
        rate="30/s",
    )
    arch, diags = validate_text(text, "cpu.yaml")
    assert arch is not None
    [d] = diags
    assert d.severity is Severity.WARNING
    assert d.path == ("spec", "services", "api", "cpu")
    assert "peak CPU demand 1.50 cores exceeds the 1 cores" in d.message
    assert "at least 2 replicas" in d.message
