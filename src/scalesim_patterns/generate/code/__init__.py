"""Runnable service code for each deployed service: FastAPI on uvicorn, behaviour as data.

`service_code_files(arch)` returns, per service, `services/<name>/` with:
- `app/spec.py`: the service's behaviour (endpoints, steps, resolved policies, stores) as JSON
  text, built by `spec.service_spec`; the only per-service content, so every name from the file
  reaches the code as an escaped JSON value, never as source;
- `app/runtime/`: the same runtime for every service (templates kept as data in `files/`, copied
  verbatim: plain text rather than Jinja2, because nothing in them varies per service);
- `tests/`, `Dockerfile` (pinned base, non-root), `requirements.txt` (pinned).
Deterministic: the same architecture gives byte-identical files. docs/service-code.md explains.
"""

from __future__ import annotations

from .files import service_code_files
from .spec import SUPPORTED_ENGINES, service_spec, spec_json

__all__ = ["SUPPORTED_ENGINES", "service_code_files", "service_spec", "spec_json"]
