"""The page at `/`: the build in `static/` (index.html and its assets) with every other non-API
path answered by index.html, so the page's own routes survive a reload; a short message page
when the page has not been built."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from .errors import ApiError

__all__ = ["STATIC", "page_router"]

STATIC = Path(__file__).with_name("static")

NO_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ScaleSim Patterns</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>ScaleSim Patterns</h1>
<p>The server is running, but the web page has not been built into this installation.</p>
<p>The API is here: <a href="/docs">/docs</a> (OpenAPI), <a href="/api/catalog">/api/catalog</a>,
<a href="/healthz">/healthz</a>.</p>
</body></html>
"""


class PagePath(Convertor[str]):
    """Any path outside /api, so API paths get the router's own 404 and 405."""

    regex = r"(?!api(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("page", PagePath())


def page_router(static_dir: Path | None) -> APIRouter:
    root = (static_dir or STATIC).resolve()
    router = APIRouter(include_in_schema=False)

    @router.get("/{path:page}")
    def page(path: str, request: Request) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NO_PAGE)
        if path:
            candidate = (root / path).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                media, _ = mimetypes.guess_type(candidate.name)
                return FileResponse(candidate, media_type=media)
            if "." in path.rsplit("/", 1)[-1]:
                raise ApiError(404, "not_found", f"no file /{path}")
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return router
