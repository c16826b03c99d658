"""Deployable configuration from an architecture: Kubernetes, Istio, Kong, Argo Rollouts, monitoring.

`generate(arch)` returns the whole output tree as relative path → text (deterministic: the same
architecture always gives byte-identical files); `write_tree(files, out_dir, force)` writes it
safely. docs/generate.md describes every kind generated and the rules applied.
"""

from .context import GenerateError
from .options import GenerateOptions
from .secrets import SecretReport, write_secrets
from .tree import generate, generate_documents
from .writer import MANIFEST, WriteRefused, WriteReport, write_tree

__all__ = [
    "MANIFEST",
    "GenerateError",
    "GenerateOptions",
    "SecretReport",
    "WriteRefused",
    "WriteReport",
    "generate",
    "generate_documents",
    "write_secrets",
    "write_tree",
]
