"""The files of one generated service, from the templates in `files/` and its spec."""

from __future__ import annotations

from importlib import resources

from scalesim_patterns.model import Architecture

from .spec import service_spec, spec_json

__all__ = [
    "MEMCACHED_REQUIREMENT",
    "RUNTIME_FILES",
    "SERVICE_ROOT",
    "service_code_files",
    "template",
]

SERVICE_ROOT = "services"
MEMCACHED_REQUIREMENT = "aiomcache==0.8.2"
"""aio-libs' asyncio memcached client, pinned like the rest of requirements.txt."""

RUNTIME_FILES: tuple[tuple[str, str], ...] = (
    ("app/__init__.py", "app/__init__.py.txt"),
    ("app/main.py", "app/main.py.txt"),
    ("app/runtime/__init__.py", "app/runtime/__init__.py.txt"),
    ("app/runtime/caches.py", "app/runtime/caches.py.txt"),
    ("app/runtime/resilience.py", "app/runtime/resilience.py.txt"),
    ("app/runtime/server.py", "app/runtime/server.py.txt"),
    ("app/runtime/stores.py", "app/runtime/stores.py.txt"),
    ("app/runtime/work.py", "app/runtime/work.py.txt"),
    ("tests/conftest.py", "tests/conftest.py.txt"),
    ("tests/test_service.py", "tests/test_service.py.txt"),
    ("requirements.txt", "requirements.txt.txt"),
    ("requirements-test.txt", "requirements-test.txt.txt"),
    (".dockerignore", "dockerignore.txt"),
)
"""(path in the service folder, template in `files/`): copied verbatim."""


def template(name: str) -> str:
    return resources.files(__package__).joinpath("files", name).read_text(encoding="utf-8")


def _spec_module(text: str) -> str:
    # Indented JSON never holds three quotes in a row (inside strings `"` is escaped as `\\"`),
    # and it ends with `}`, so a raw triple-quoted string holds it unchanged.
    if '"""' in text or text.rstrip().endswith("\\"):  # pragma: no cover - defensive
        raise ValueError("spec text cannot be embedded")
    return (
        '"""This service\'s behaviour, generated from the architecture file: do not edit."""\n\n'
        f'SPEC_JSON = r"""{text}"""\n'
    )


def service_code_files(arch: Architecture, names: list[str]) -> dict[str, str]:
    """`services/<name>/...` → text for each service in `names` (the deployed ones)."""
    out: dict[str, str] = {}
    shared = {path: template(src) for path, src in RUNTIME_FILES}
    dockerfile = template("Dockerfile.txt")
    for name in names:
        spec = service_spec(arch, name)
        root = f"{SERVICE_ROOT}/{name}"
        for path, text in shared.items():
            out[f"{root}/{path}"] = text
        out[f"{root}/app/spec.py"] = _spec_module(spec_json(spec))
        out[f"{root}/Dockerfile"] = dockerfile.replace("__PORT__", str(int(spec["port"])))
        if any(c["engine"] == "memcached" for c in spec.get("caches", {}).values()):
            # Only services with a memcached cache need its client (not in `scalesim up`'s set).
            out[f"{root}/requirements.txt"] += MEMCACHED_REQUIREMENT + "\n"
    return dict(sorted(out.items()))
