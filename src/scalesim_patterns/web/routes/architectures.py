"""Architectures and their versions: create (from a template, text or JSON), read, update,
rename, delete, list; every save validated with the diagnostics of `scalesim validate`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from scalesim_patterns import catalog

from ..context import AppContext, context
from ..documents import Analysis, analyse, document_to_text
from ..errors import ApiError
from ..limits import LimitExceeded, check_architecture_size
from ..schemas import (
    Architecture,
    ArchitectureSummary,
    CreateArchitecture,
    RenameArchitecture,
    UpdateArchitecture,
    ValidateRequest,
    ValidateResponse,
    VersionSummary,
)
from ..store import ArchitectureRecord, VersionRecord
from ..views import architecture_body, summary_body, version_body
from .catalog import topology_json
from .common import ArchId, VersionNo, errors, store_errors

router = APIRouter(prefix="/api", tags=["architectures"])

Ctx = Annotated[AppContext, Depends(context)]


def limit_error(exc: LimitExceeded) -> ApiError:
    return ApiError(
        422,
        "limit_exceeded",
        str(exc),
        {"limit": exc.limit, "value": exc.value, "maximum": exc.maximum},
    )


def checked(ctx: AppContext, text: str, name: str) -> Analysis:
    """Validate a text to be stored, within the size limits."""
    try:
        check_architecture_size(text, None, ctx.settings.limits)
        analysis = analyse(text, name)
        check_architecture_size(text, analysis.arch, ctx.settings.limits)
    except LimitExceeded as exc:
        raise limit_error(exc) from None
    return analysis


def valid_version(
    ctx: AppContext, arch_id: int, version: int | None
) -> tuple[ArchitectureRecord, VersionRecord, Analysis]:
    """A stored version that can be run or generated; 404 / 422 otherwise."""
    with store_errors():
        arch = ctx.store.architecture(arch_id)
        v = ctx.store.version(arch_id, version)
    analysis = analyse(v.text, arch.name)
    if not analysis.valid or analysis.arch is None:
        errors_ = [d for d in analysis.diagnostics if d["severity"] == "error"]
        raise ApiError(
            422,
            "invalid_architecture",
            f"architecture {arch.name} version {v.version} has {len(errors_)} error(s); "
            "fix them and save a new version",
            {"diagnostics": analysis.diagnostics},
        )
    return arch, v, analysis


@router.post("/validate", response_model=ValidateResponse, responses=errors())
def validate(body: ValidateRequest, ctx: Ctx) -> dict[str, Any]:
    """Diagnostics for a text without saving it (for an editor's marks)."""
    analysis = checked(ctx, body.text, "architecture")
    return {
        "valid": analysis.valid,
        "diagnostics": analysis.diagnostics,
        "topology": topology_json(analysis.arch) if analysis.arch is not None else None,
    }


@router.get("/architectures", response_model=list[ArchitectureSummary], responses=errors())
def list_architectures(ctx: Ctx) -> list[dict[str, object]]:
    return [summary_body(a, v) for a, v in ctx.store.list_architectures()]


@router.post(
    "/architectures", status_code=201, response_model=Architecture, responses=errors(404, 409)
)
def create_architecture(body: CreateArchitecture, ctx: Ctx) -> dict[str, object]:
    if body.template is not None:
        try:
            catalog.template(body.template)
        except catalog.CatalogError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        try:
            text = catalog.new(body.template, body.sets)
        except catalog.CatalogError as exc:
            raise ApiError(422, "bad_template", str(exc)) from None
    elif body.document is not None:
        text = document_to_text(body.document)
    else:
        assert body.text is not None
        text = body.text
    analysis = checked(ctx, text, body.name)
    with store_errors():
        arch = ctx.store.create_architecture(
            body.name, text, analysis.valid, analysis.diagnostics, analysis.summary
        )
        return architecture_body(arch, ctx.store.version(arch.id, 1))


@router.get("/architectures/{arch_id}", response_model=Architecture, responses=errors(404))
def get_architecture(arch_id: ArchId, ctx: Ctx) -> dict[str, object]:
    with store_errors():
        arch = ctx.store.architecture(arch_id)
        return architecture_body(arch, ctx.store.version(arch_id))


@router.put("/architectures/{arch_id}", response_model=Architecture, responses=errors(404, 409))
def update_architecture(arch_id: ArchId, body: UpdateArchitecture, ctx: Ctx) -> dict[str, object]:
    text = body.text if body.text is not None else document_to_text(body.document or {})
    with store_errors():
        arch = ctx.store.architecture(arch_id)
        analysis = checked(ctx, text, arch.name)
        try:
            number = ctx.store.add_version(
                arch_id, text, analysis.valid, analysis.diagnostics, analysis.summary
            )
        except RuntimeError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        return architecture_body(
            ctx.store.architecture(arch_id), ctx.store.version(arch_id, number)
        )


@router.patch("/architectures/{arch_id}", response_model=Architecture, responses=errors(404, 409))
def rename_architecture(arch_id: ArchId, body: RenameArchitecture, ctx: Ctx) -> dict[str, object]:
    with store_errors():
        arch = ctx.store.rename_architecture(arch_id, body.name)
        return architecture_body(arch, ctx.store.version(arch_id))


@router.delete(
    "/architectures/{arch_id}", status_code=204, response_class=Response, responses=errors(404, 409)
)
def delete_architecture(arch_id: ArchId, ctx: Ctx) -> Response:
    with store_errors():
        try:
            ctx.store.delete_architecture(arch_id)
        except RuntimeError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
    return Response(status_code=204)


@router.get(
    "/architectures/{arch_id}/versions",
    response_model=list[VersionSummary],
    responses=errors(404),
)
def list_versions(arch_id: ArchId, ctx: Ctx) -> list[dict[str, object]]:
    with store_errors():
        return [version_body(v) for v in ctx.store.versions(arch_id)]


@router.get(
    "/architectures/{arch_id}/versions/{version}",
    response_model=Architecture,
    responses=errors(404),
)
def get_version(arch_id: ArchId, version: VersionNo, ctx: Ctx) -> dict[str, object]:
    with store_errors():
        arch = ctx.store.architecture(arch_id)
        return architecture_body(arch, ctx.store.version(arch_id, version))


@router.get("/architectures/{arch_id}/versions/{version}/topology", responses=errors(404))
def get_topology(arch_id: ArchId, version: VersionNo, ctx: Ctx) -> dict[str, Any]:
    _, _, analysis = valid_version(ctx, arch_id, version)
    assert analysis.arch is not None
    return topology_json(analysis.arch)
