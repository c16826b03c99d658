"""The pattern catalog and the templates, with their topology as nodes and edges."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path

from scalesim_patterns import catalog

from ..errors import ApiError
from ..schemas import Catalog, PatternPage, TemplatePage
from .common import errors

router = APIRouter(prefix="/api/catalog", tags=["catalog"], responses=errors(404))

Id = Annotated[str, Path(max_length=100)]


def _template(info: catalog.TemplateInfo) -> dict[str, Any]:
    return info.model_dump(mode="json", exclude={"path"})


def topology_json(arch: Any) -> dict[str, Any]:
    """The topology as `scalesim catalog show --format json` prints it."""
    data: dict[str, Any] = json.loads(catalog.render_json(catalog.topology(arch)))
    return data


@router.get("", response_model=Catalog)
def catalog_index() -> dict[str, Any]:
    return {
        "groups": [
            {
                "id": g.id,
                "title": g.title,
                "patterns": [p.model_dump(mode="json") for p in g.patterns],
            }
            for g in catalog.groups()
        ],
        "templates": [_template(t) for t in catalog.templates()],
    }


@router.get("/patterns/{pattern_id}", response_model=PatternPage)
def pattern(pattern_id: Id) -> dict[str, Any]:
    try:
        entry = catalog.pattern(pattern_id)
        topo = catalog.pattern_topology(pattern_id)
    except catalog.CatalogError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return {
        "pattern": entry.model_dump(mode="json"),
        "topology": json.loads(catalog.render_json(topo)),
    }


@router.get("/templates/{template_id}", response_model=TemplatePage)
def template(template_id: Id) -> dict[str, Any]:
    try:
        info = catalog.template(template_id)
        text = catalog.template_text(template_id)
        arch = catalog.template_architecture(template_id)
    except catalog.CatalogError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return {"template": _template(info), "text": text, "topology": topology_json(arch)}
