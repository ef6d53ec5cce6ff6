"""JSON endpoints under /api/. Reads go straight to the database; amounts are exact strings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from bot import control
from bot.review.listing import Filters, listing, parse_when
from bot.store.repo import Store
from bot.web.jsonable import jsonable
from bot.web.period import period_report
from bot.web.views import hedge_rows, status_view, value_series

router = APIRouter(prefix="/api")

When = Annotated[
    str | None, Query(description="UTC time (2024-05-01, 2024-05-01T12:00) or an age (2h, 7d)")
]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _when(text: str | None, name: str) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        return parse_when(text)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: {exc}") from None


def _filters(
    since: str | None, until: str | None, symbol: str | None, hedge: str | None, limit: int
) -> Filters:
    return Filters(
        _when(since, "since"), _when(until, "until"), symbol or None, hedge or None, limit or None
    )


@router.get("/status", summary="Trading state, last cycle, account and hedges (current vs target)")
async def status(request: Request) -> Any:
    return jsonable(await status_view(_store(request)))


@router.get("/hedges", summary="Per hedge: spot, perp, ratio, target, deviation, stop, liquidation")
async def hedges(request: Request) -> Any:
    return jsonable(await hedge_rows(_store(request)))


def _listing_route(name: str, doc: str) -> None:
    async def route(
        request: Request,
        since: When = None,
        until: When = None,
        symbol: str | None = None,
        hedge: str | None = None,
        limit: Annotated[int, Query(ge=0, le=100_000, description="0: all")] = 50,
    ) -> Any:
        f = _filters(since, until, symbol, hedge, limit)
        return jsonable(await listing(_store(request), name, f))

    route.__name__ = name
    router.add_api_route(f"/{name}", route, methods=["GET"], summary=doc)


for _name, _doc in {
    "orders": "Order intents with status and the venue's reason, newest first",
    "fills": "Fills from the venue, newest first",
    "funding": "Funding payments (positive: received), newest first",
    "events": "Events (halts, reloads, skipped data, risk notes), newest first",
    "rejections": "Orders refused by a risk guard or by the venue, newest first",
}.items():
    _listing_route(_name, _doc)


@router.get("/values", summary="Hedged vs unhedged value, one point per cycle (thinned)")
async def values(
    request: Request,
    since: When = None,
    until: When = None,
    points: Annotated[int, Query(ge=2, le=5000)] = 300,
) -> Any:
    series = await value_series(
        _store(request), since=_when(since, "since"), until=_when(until, "until"), points=points
    )
    return jsonable(series)


@router.get("/report", summary="Fills, fees, funding, value change and effectiveness for a period")
async def report(
    request: Request, since: When = None, until: When = None, hedge: str | None = None
) -> Any:
    result = await period_report(
        _store(request), _when(since, "since"), _when(until, "until"), hedge or None
    )
    return jsonable(result)


class Reason(BaseModel):
    reason: str = Field(default="", max_length=500)


@router.post("/control/halt", summary="Stop all trading until resumed (needs the API token)")
async def halt(request: Request, body: Reason | None = None) -> Any:
    reason = (body.reason if body else "") or "halted via the web API"
    before = await control.halt(_store(request), reason)
    return {"trading_state": "halted", "reason": reason, "before": before[0].value}


@router.post("/control/resume", summary="Clear a halt (needs the API token)")
async def resume(request: Request, body: Reason | None = None) -> Any:
    reason = (body.reason if body else "") or "resumed via the web API"
    before = await control.resume(_store(request), reason)
    return {"trading_state": "active", "reason": reason, "before": before[0].value}
