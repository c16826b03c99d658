"""Rules for kustomization files (SSP045-SSP047)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

from scalesim_patterns.generate.lint.context import RuleContext
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.kustomize import Kustomization, kustomization_in


def _findings(ctx: RuleContext, kustomization: Kustomization) -> Iterator[Finding]:
    doc, data = kustomization.doc, kustomization.data
    if "commonLabels" in data:
        yield finding(
            doc,
            "SSP045",
            ("commonLabels",),
            "commonLabels is deprecated and also rewrites selectors; use labels: with pairs "
            "(includeSelectors only where intended)",
        )
    for old in ("patchesStrategicMerge", "patchesJson6902"):
        if old in data:
            yield finding(doc, "SSP046", (old,), f"{old} is deprecated; use patches:")
    for ref in kustomization.references():
        if ctx.source.is_file(ref.target):
            continue
        if ctx.source.is_dir(ref.target) and ref.role == "resource":
            if kustomization_in(ctx.source, ref.target) is not None:
                continue
            message = f"folder {ref.entry!r} has no kustomization.yaml"
        else:
            message = f"{ref.entry!r} does not exist (looked for {ref.target})"
        yield finding(doc, "SSP047", ref.field_path, message)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for kustomization in ctx.kustomizations:
        for item in _findings(ctx, kustomization):
            name = os.path.basename(kustomization.dir) or "."
            yield replace(item, kind="Kustomization", name=name)
