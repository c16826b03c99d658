"""Store records as API bodies (the shapes of docs/web-api.md)."""

from __future__ import annotations

from datetime import datetime

from .store import ArchitectureRecord, RunRecord, VersionRecord

__all__ = ["architecture_body", "iso", "run_body", "summary_body", "version_body"]


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def summary_body(arch: ArchitectureRecord, v: VersionRecord) -> dict[str, object]:
    return {
        "id": arch.id,
        "name": arch.name,
        "version": v.version,
        "valid": v.valid,
        "created_at": iso(arch.created_at),
        "updated_at": iso(arch.updated_at),
        "services": v.summary.get("services", 0),
        "databases": v.summary.get("databases", 0),
        "traffic": v.summary.get("traffic", 0),
        "scenarios": list(v.summary.get("scenarios", [])),
    }


def architecture_body(arch: ArchitectureRecord, v: VersionRecord) -> dict[str, object]:
    return {
        **summary_body(arch, v),
        "latest_version": arch.latest_version,
        "text": v.text,
        "diagnostics": v.diagnostics,
    }


def version_body(v: VersionRecord) -> dict[str, object]:
    return {
        "version": v.version,
        "created_at": iso(v.created_at),
        "valid": v.valid,
        "bytes": len(v.text.encode("utf-8")),
    }


def run_body(r: RunRecord) -> dict[str, object]:
    compare_with = None
    if r.kind == "compare":
        compare_with = {
            "architecture_id": r.b_architecture_id,
            "version": r.b_version,
            "architecture_name": r.b_architecture_name or "",
        }
    return {
        "id": r.id,
        "kind": r.kind,
        "state": r.state,
        "source": r.source,
        "architecture_id": r.architecture_id,
        "version": r.version,
        "architecture_name": r.architecture_name,
        "compare_with": compare_with,
        "scenario": r.options.get("scenario"),
        "duration": r.options.get("duration"),
        "replications": r.options.get("replications"),
        "seed": r.options.get("seed"),
        "estimated_requests": r.estimated_requests,
        "created_at": iso(r.created_at),
        "started_at": iso(r.started_at),
        "finished_at": iso(r.finished_at),
        "error": r.error,
        "interrupted": r.interrupted,
        "last_event": r.last_event,
        "progress": r.progress,
        "sweep": r.options.get("sweep") if r.kind == "sweep" else None,
    }
