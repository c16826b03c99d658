"""Credentials without values in the manifests: kustomize secretGenerators fed by local files.

Generated manifests never hold a secret value (a placeholder applies cleanly and starts a
database with a password anyone can read in the repository). Each Secret becomes a
`secretGenerator` of `base/kustomization.yaml` whose values are files under `base/secrets/`,
which `write_secrets` fills with cryptographically random values (`secrets.token_hex`) the
first time and never replaces afterwards (rotating a database's password under a running
database locks its clients out). `base/secrets/.gitignore` keeps them out of Git. A team with an
external secret store deletes the generators and lets its operator create Secrets of the same
names.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "SECRETS_DIR",
    "SecretReport",
    "SecretSpec",
    "gitignore",
    "secret_files",
    "secret_generator",
    "write_secrets",
]

SECRETS_DIR = "secrets"
"""Folder of the value files, relative to `base/`."""
VALUE_BYTES = 24
"""Random bytes per value: 192 bits, written as 48 hex digits (safe in every engine's syntax)."""


@dataclass(frozen=True)
class SecretSpec:
    """One Secret: keys whose values are random files, plus non-secret literals (user names)."""

    name: str
    random_keys: tuple[str, ...]
    literals: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()


def secret_generator(specs: list[SecretSpec]) -> list[dict[str, Any]]:
    """The `secretGenerator` entries of the base kustomization, in name order."""
    out: list[dict[str, Any]] = []
    for spec in sorted(specs, key=lambda s: s.name):
        entry: dict[str, Any] = {"name": spec.name, "type": "Opaque"}
        if spec.random_keys:
            entry["files"] = [
                f"{key}={SECRETS_DIR}/{spec.name}/{key}" for key in sorted(spec.random_keys)
            ]
        if spec.literals:
            entry["literals"] = [f"{k}={v}" for k, v in sorted(spec.literals)]
        # Stable names: Rollouts, KongConsumers and secretKeyRefs refer to them by name, and
        # kustomize rewrites references only in kinds it knows.
        options: dict[str, Any] = {"disableNameSuffixHash": True}
        if spec.labels:
            options["labels"] = dict(sorted(spec.labels))
        entry["options"] = options
        out.append(entry)
    return out


def gitignore() -> str:
    return (
        "# Random credentials written by `scalesim generate`: never commit them.\n*\n!.gitignore\n"
    )


def secret_files(files: dict[str, str]) -> list[str]:
    """Paths (relative to the output folder) of the value files the base kustomization names."""
    text = files.get("base/kustomization.yaml")
    if text is None:
        return []
    data = yaml.safe_load(text) or {}
    out: list[str] = []
    for entry in data.get("secretGenerator") or []:
        for item in entry.get("files") or []:
            out.append("base/" + str(item).partition("=")[2])
    return sorted(out)


@dataclass
class SecretReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"secrets: {len(self.created)} random value(s) created, {len(self.kept)} kept "
            "(base/secrets/, git-ignored)"
        )


def write_secrets(out_dir: str | Path, files: dict[str, str]) -> SecretReport:
    """Create each missing value file with a random value (mode 0600); never replace one.

    The file appears whole or not at all (written to a temporary file, then hard-linked into
    place, which fails rather than replace a file that appeared meanwhile).
    """
    root = Path(out_dir)
    report = SecretReport()
    for rel in secret_files(files):
        target = root / rel
        if target.is_symlink() or target.exists():
            if not target.is_file() or target.is_symlink():
                raise OSError(f"{target}: exists and is not a regular file; remove it")
            report.kept.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".secret-", suffix=".scalesim-tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(VALUE_BYTES))
            os.link(tmp, target)
        except FileExistsError:
            report.kept.append(rel)
            continue
        finally:
            os.unlink(tmp)
        report.created.append(rel)
    return report
