"""The architecture file: models, loading and validation.

Everything else in ScaleSim Patterns (catalog, simulator, generator, web app) reads an
`Architecture` and nothing else of another part.
"""

from .architecture import API_VERSION, Architecture, ArchitectureSpec, Metadata, Slo
from .diagnostics import ArchitectureError, Diagnostic, Severity
from .loader import dump, load, loads, validate, validate_text
from .schema import json_schema
from .yamlbounds import DEFAULT_LIMITS, InputLimits, YamlLimitError

__all__ = [
    "API_VERSION",
    "DEFAULT_LIMITS",
    "Architecture",
    "ArchitectureError",
    "ArchitectureSpec",
    "Diagnostic",
    "InputLimits",
    "Metadata",
    "Severity",
    "Slo",
    "YamlLimitError",
    "dump",
    "json_schema",
    "load",
    "loads",
    "validate",
    "validate_text",
]
