"""Rules about containers and pod specs (SSP001-SSP013), applied to every pod template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scalesim_patterns.generate.lint.context import RuleContext
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.paths import FieldPath
from scalesim_patterns.generate.lint.workloads import PodTemplate

MIN_UID = 10000
_SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_RESOURCE_KEYS = (
    ("requests", "cpu"),
    ("requests", "memory"),
    ("limits", "cpu"),
    ("limits", "memory"),
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _containers(template: PodTemplate) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for field in ("initContainers", "containers"):
        for i, container in enumerate(template.spec.get(field) or []):
            if isinstance(container, dict):
                yield field, i, container


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None. A digest pins even without a tag."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag, so it pulls :latest"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the mutable :latest tag"
    return None


def looks_secret(name: str) -> bool:
    """An env var name one of whose ``_``/``-``/``.`` separated words ends in a secret word."""
    words = re.split(r"[_\-.]", name.upper())
    return any(word.endswith(secret) for word in words for secret in _SECRET_WORDS)


def _handler(probe: dict[str, Any]) -> dict[str, Any]:
    return {k: probe[k] for k in _PROBE_HANDLERS if k in probe}


def _check_resources(container: dict[str, Any]) -> str | None:
    resources = _dict(container.get("resources"))
    missing = [
        f"{section}.{name}"
        for section, name in _RESOURCE_KEYS
        if _dict(resources.get(section)).get(name) in (None, "")
    ]
    return f"missing resources {', '.join(missing)}" if missing else None


def _probe_findings(
    ctx_template: PodTemplate, path: FieldPath, container: dict[str, Any]
) -> Iterator[Finding]:
    doc = ctx_template.doc
    probes = {k: container.get(k) for k in ("readinessProbe", "livenessProbe")}
    for key, probe in probes.items():
        if not isinstance(probe, dict):
            yield finding(doc, "SSP002", (*path, key), f"container has no {key}")
    ready, live = probes["readinessProbe"], probes["livenessProbe"]
    same = isinstance(ready, dict) and isinstance(live, dict) and _handler(ready) == _handler(live)
    if same and isinstance(ready, dict) and _handler(ready):
        yield finding(
            doc,
            "SSP003",
            (*path, "livenessProbe"),
            "liveness probe runs the same check as the readiness probe; a failing dependency "
            "would restart the pod instead of only taking it out of rotation",
        )
    ports = [p for p in container.get("ports") or [] if isinstance(p, dict)]
    numbers = {p.get("containerPort") for p in ports}
    names = {p.get("name") for p in ports if p.get("name")}
    declared = ", ".join(
        f"{p.get('containerPort')}" + (f"/{p['name']}" if p.get("name") else "") for p in ports
    )
    for key in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = _dict(container.get(key))
        for handler in ("httpGet", "tcpSocket", "grpc"):
            port = _dict(probe.get(handler)).get("port")
            if port is None:
                continue
            known = names if isinstance(port, str) else numbers
            if port not in known:
                yield finding(
                    doc,
                    "SSP004",
                    (*path, key, handler, "port"),
                    f"{key} targets port {port!r}, which the container does not declare "
                    f"(declared: {declared or 'none'})",
                )


def _security_findings(
    template: PodTemplate, path: FieldPath, container: dict[str, Any]
) -> Iterator[Finding]:
    doc = template.doc
    pod_sc = _dict(template.spec.get("securityContext"))
    sc = _dict(container.get("securityContext"))
    sc_path = (*path, "securityContext")

    def effective(key: str) -> Any:
        return sc[key] if key in sc else pod_sc.get(key)

    if effective("runAsNonRoot") is not True:
        yield finding(doc, "SSP006", (*sc_path, "runAsNonRoot"), "runAsNonRoot is not true")
    uid = effective("runAsUser")
    if uid is None:
        yield finding(
            doc, "SSP007", (*sc_path, "runAsUser"), f"runAsUser is not set (use a UID >= {MIN_UID})"
        )
    elif isinstance(uid, int) and not isinstance(uid, bool) and uid < MIN_UID:
        yield finding(
            doc,
            "SSP007",
            (*sc_path, "runAsUser"),
            f"runAsUser {uid} is below {MIN_UID} and may collide with host users",
        )
    if sc.get("readOnlyRootFilesystem") is not True:
        yield finding(
            doc,
            "SSP008",
            (*sc_path, "readOnlyRootFilesystem"),
            "readOnlyRootFilesystem is not true",
        )
    if sc.get("allowPrivilegeEscalation") is not False:
        yield finding(
            doc,
            "SSP009",
            (*sc_path, "allowPrivilegeEscalation"),
            "allowPrivilegeEscalation is not false",
        )
    drop = _dict(sc.get("capabilities")).get("drop") or []
    if "ALL" not in drop:
        yield finding(
            doc, "SSP010", (*sc_path, "capabilities", "drop"), "capabilities.drop lacks ALL"
        )
    seccomp = _dict(effective("seccompProfile")).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        shown = f"is {seccomp}" if seccomp else "is not set"
        yield finding(
            doc,
            "SSP011",
            (*sc_path, "seccompProfile"),
            f"seccompProfile {shown} (use type: RuntimeDefault at pod or container level)",
        )


def _env_findings(
    template: PodTemplate, path: FieldPath, container: dict[str, Any]
) -> Iterator[Finding]:
    for i, env in enumerate(container.get("env") or []):
        if not isinstance(env, dict):
            continue
        name, value = env.get("name"), env.get("value")
        literal = isinstance(value, str) and value and not value.startswith("$(")
        if literal and isinstance(name, str) and looks_secret(name):
            yield finding(
                template.doc,
                "SSP013",
                (*path, "env", i, "value"),
                f"env {name} holds a literal value; reference a Secret (valueFrom.secretKeyRef)",
            )


def _automount_finding(ctx: RuleContext, template: PodTemplate) -> Finding | None:
    value = template.spec.get("automountServiceAccountToken")
    path = (*template.spec_path, "automountServiceAccountToken")
    if value is False:
        return None
    if value is True:
        return finding(template.doc, "SSP012", path, "automountServiceAccountToken is true")
    account = template.spec.get("serviceAccountName") or template.spec.get("serviceAccount")
    account = account if isinstance(account, str) else "default"
    for sa in ctx.named("ServiceAccount", template.doc.namespace, account):
        if sa.group == "" and sa.get("automountServiceAccountToken") is False:
            return None
    return finding(
        template.doc,
        "SSP012",
        path,
        f"automountServiceAccountToken is not false on the pod or its ServiceAccount {account!r}",
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    for template in ctx.templates:
        doc = template.doc
        for field, index, container in _containers(template):
            path = (*template.spec_path, field, index)
            problem = _check_resources(container)
            if problem:
                yield finding(doc, "SSP001", (*path, "resources"), problem)
            if field == "containers" and not template.is_batch:
                yield from _probe_findings(template, path, container)
            image = container.get("image")
            if isinstance(image, str) and (why := image_problem(image)):
                yield finding(doc, "SSP005", (*path, "image"), why)
            yield from _security_findings(template, path, container)
            yield from _env_findings(template, path, container)
        automount = _automount_finding(ctx, template)
        if automount is not None:
            yield automount
