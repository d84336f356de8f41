"""The inventory page: every model at a glance, searchable and filterable.

The filter form is a plain GET form (it works without JavaScript); HTMX sends the same
query to ``/inventory/rows`` while typing and swaps only the results.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from modelsteward.api.policy import page, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry.models import search_models
from modelsteward.registry.specs import RISK_TIERS
from modelsteward.registry.views import Page
from modelsteward.web.rendering import render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, Depends(page(Permission.INVENTORY_READ))]

PAGE_SIZES = (25, 50, 100)
STATUSES = ("active", "archived", "all")


@dataclass(frozen=True)
class Filters:
    """What the user asked for, cleaned: unknown values fall back to the defaults."""

    q: str = ""
    owner: str = ""
    risk_tier: str = ""
    tag: str = ""
    alias: str = ""
    status: str = "active"
    limit: int = PAGE_SIZES[0]
    offset: int = 0

    @classmethod
    def from_request(cls, request: Request) -> Filters:
        params = request.query_params

        def text(key: str) -> str:
            return params.get(key, "").strip()[:128]

        def integer(key: str, default: int) -> int:
            raw = params.get(key, "")
            return int(raw) if raw.isdigit() and len(raw) < 10 else default

        limit = integer("limit", PAGE_SIZES[0])
        return cls(
            q=text("q"),
            owner=text("owner"),
            risk_tier=text("risk_tier") if text("risk_tier") in RISK_TIERS else "",
            tag=text("tag"),
            alias=text("alias"),
            status=text("status") if text("status") in STATUSES else "active",
            limit=limit if limit in PAGE_SIZES else PAGE_SIZES[0],
            offset=integer("offset", 0),
        )

    @property
    def narrowed(self) -> bool:
        """True when anything but the defaults is filtering the list."""
        return any((self.q, self.owner, self.risk_tier, self.tag, self.alias)) or (
            self.status != "active"
        )

    def query(self, **changes: object) -> str:
        """This filter set as a query string, leaving out defaults, with ``changes`` applied."""
        values = {**asdict(self), **changes}
        defaults = asdict(Filters())
        return urlencode({k: v for k, v in values.items() if v != defaults[k]})


def _search(request: Request, filters: Filters) -> Page:
    return search_models(
        steward_of(request),
        q=filters.q or None,
        owner=filters.owner or None,
        risk_tier=filters.risk_tier or None,
        tag=filters.tag or None,
        alias=filters.alias or None,
        status=None if filters.status == "all" else filters.status,
        limit=filters.limit,
        offset=filters.offset,
    )


def _context(filters: Filters, results: Page) -> dict[str, object]:
    last = results.offset + len(results.items)
    return {
        "nav": "inventory",
        "filters": filters,
        "results": results,
        "first": results.offset + 1 if results.items else 0,
        "last": last,
        "prev_query": filters.query(offset=max(0, filters.offset - filters.limit))
        if filters.offset > 0
        else None,
        "next_query": filters.query(offset=last) if last < results.total else None,
        "risk_tiers": RISK_TIERS,
        "statuses": STATUSES,
        "page_sizes": PAGE_SIZES,
    }


@router.get("/")
async def inventory(request: Request, who: Viewer) -> Response:
    filters = Filters.from_request(request)
    results = await run_in_threadpool(_search, request, filters)
    return render(request, "inventory.html", _context(filters, results))


@router.get("/inventory/rows")
async def inventory_rows(request: Request, who: Viewer) -> Response:
    """The results region alone, for HTMX; the address bar follows the filters."""
    filters = Filters.from_request(request)
    results = await run_in_threadpool(_search, request, filters)
    query = filters.query()
    return render(
        request,
        "_inventory_results.html",
        _context(filters, results),
        headers={"HX-Push-Url": "/" + (f"?{query}" if query else "")},
    )
