"""The web UI, served by the API's own process: pages, fragments and vendored assets.

``mount`` is called by ``modelsteward.api.app.create_app``. Static files are served by
a route with an explicit public policy, from a fixed list of the files shipped in
``static/``: a request names a file, never a path.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from starlette.responses import FileResponse

from modelsteward.api.policy import PUBLIC
from modelsteward.errors import NotFound
from modelsteward.web import (
    auth,
    deployment_actions,
    deployments,
    inventory,
    lifecycles,
    model_page,
    monitoring,
    tasks,
)
from modelsteward.web.errors import install_page_errors

STATIC_DIR = Path(__file__).parent / "static"
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
STATIC_FILES = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file() and p.suffix in _MEDIA_TYPES}

static_router = APIRouter(include_in_schema=False)


@static_router.get("/static/{file_name}", dependencies=[Depends(PUBLIC)])
def static_file(file_name: str) -> FileResponse:
    path = STATIC_FILES.get(file_name)
    if path is None:
        raise NotFound(f"no static file {file_name[:80]!r}")
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def mount(app: FastAPI) -> None:
    """Add the pages and their HTML error handling to the application."""
    for router in (
        static_router,
        auth.router,
        inventory.router,
        model_page.router,
        deployments.router,
        deployment_actions.router,
        lifecycles.router,
        lifecycles.forms,
        tasks.router,
        tasks.forms,
        monitoring.router,
        monitoring.forms,
    ):
        app.include_router(router)
    install_page_errors(app)
