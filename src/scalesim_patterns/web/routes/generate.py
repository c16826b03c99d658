"""The generated tree of an architecture version: file list with lint findings, one file, a zip.

Nothing is written to disk: the generator returns path → text and the linter reads from memory.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from scalesim_patterns.generate import GenerateError, generate

from ..context import AppContext, context
from ..errors import ApiError
from ..schemas import FileText, GenerateResponse
from .architectures import valid_version
from .common import ArchId, VersionNo, errors

router = APIRouter(prefix="/api/architectures/{arch_id}/versions/{version}", tags=["generate"])

Ctx = Annotated[AppContext, Depends(context)]
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Fixed entry times, so the same version always gives the same zip bytes."""


def _generated(
    ctx: AppContext, arch_id: int, version: int
) -> tuple[str, dict[str, str], dict[str, Any]]:
    arch, v, analysis = valid_version(ctx, arch_id, version)
    assert analysis.arch is not None
    key = hashlib.sha256(v.text.encode("utf-8")).hexdigest()
    hit = ctx.cached_generation(key)
    if hit is None:
        try:
            files = generate(analysis.arch)
        except GenerateError as exc:
            raise ApiError(422, "generate_failed", str(exc)) from None
        lint = ctx.linter().lint_texts(files).to_dict()
        hit = (files, lint)
        ctx.cache_generation(key, hit)
    return f"{arch.name}-v{v.version}", hit[0], hit[1]


@router.get("/generate", response_model=GenerateResponse, responses=errors(404))
def generated_tree(arch_id: ArchId, version: VersionNo, ctx: Ctx) -> dict[str, Any]:
    _, files, lint = _generated(ctx, arch_id, version)
    return {
        "files": [{"path": p, "bytes": len(t.encode("utf-8"))} for p, t in sorted(files.items())],
        "lint": lint,
    }


@router.get("/generate/file", response_model=FileText, responses=errors(404))
def generated_file(
    arch_id: ArchId,
    version: VersionNo,
    ctx: Ctx,
    path: Annotated[str, Query(max_length=500, description="A path listed by /generate.")],
) -> dict[str, str]:
    _, files, _ = _generated(ctx, arch_id, version)
    if path not in files:
        raise ApiError(404, "not_found", f"no generated file '{path}'; GET .../generate lists them")
    return {"path": path, "text": files[path]}


@router.get(
    "/generate.zip",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The generated tree"},
        **errors(404),
    },
)
def generated_zip(arch_id: ArchId, version: VersionNo, ctx: Ctx) -> Response:
    name, files, _ = _generated(ctx, arch_id, version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(files.items()):
            info = zipfile.ZipInfo(f"{name}/{path}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )
