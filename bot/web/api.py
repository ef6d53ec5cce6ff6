"""JSON endpoints under /api/. Reads go straight to the database; amounts are exact strings."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from bot import control, flatten
from bot.review.listing import Filters, listing, parse_when
from bot.store.repo import Store
from bot.web.jsonable import jsonable
from bot.web.views import hedge_names, hedge_rows, status_view, value_series

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


@router.get(
    "/report",
    summary="`hedgebot report` for a period: PnL parts, funding, fees, effectiveness, drawdowns",
)
async def report(
    request: Request, since: When = None, until: When = None, hedge: str | None = None
) -> Any:
    from bot.review import report as rep

    att = await rep.load(
        _store(request), since=_when(since, "since"), until=_when(until, "until"), hedge=hedge
    )
    if att is None:
        raise HTTPException(404, "no mark-to-market snapshots in this period: nothing to report")
    # numpy work: off the event loop, so a report never delays the daemon's cycle beside it
    return await asyncio.to_thread(lambda: rep.to_json(rep.build(att)))


class Reason(BaseModel):
    reason: str = Field(default="", max_length=500)


class HedgesReason(Reason):
    hedges: list[str] = Field(default_factory=list, max_length=100)


@router.post("/control/halt", summary="Stop all trading until resumed (needs the API token)")
async def halt(request: Request, body: Reason | None = None) -> Any:
    reason = (body.reason if body else "") or "halted via the web API"
    before = await control.halt(_store(request), reason)
    return {"trading_state": "halted", "reason": reason, "before": before[0].value}


@router.post(
    "/control/resume",
    summary="Clear a halt, or with `hedges` re-hedge those flattened hedges (needs the API token)",
)
async def resume(request: Request, body: HedgesReason | None = None) -> Any:
    store = _store(request)
    if body and body.hedges:
        still = await flatten.unflatten(store, await _known(store, body.hedges))
        return {"hedging_again": sorted(body.hedges), "flattened": sorted(still)}
    reason = (body.reason if body else "") or "resumed via the web API"
    before = await control.resume(store, reason)
    still = await flatten.flattened(store)
    return {"trading_state": "active", "before": before[0].value, "flattened": sorted(still)}


@router.post(
    "/control/flatten",
    summary="Close hedges' shorts (all when `hedges` is empty) and keep them flat until resumed; "
    "the daemon acts at its next cycle, also while trading is halted (needs the API token)",
)
async def flatten_hedges(request: Request, body: HedgesReason | None = None) -> Any:
    store = _store(request)
    names = await _known(store, body.hedges if body else [])
    reason = (body.reason if body else "") or "flattened via the web API"
    now = await flatten.flatten(store, names, reason)
    state, why = await store.trading_state()
    note = "the daemon closes these shorts with reduce-only orders at its next cycle"
    if state.value == "halted":  # bot.risk lets exactly these closes through a halt
        note += "; trading stays halted for every other order until resumed"
    return {"flattened": sorted(now), "trading_state": state.value, "reason": why, "note": note}


async def _known(store: Store, wanted: list[str]) -> list[str]:
    """The named hedges, all configured ones when none is named; 422 for an unknown name."""
    known = await hedge_names(store)
    unknown = sorted(set(wanted) - known)
    if unknown or not (wanted or known):
        names = ", ".join(sorted(known)) or "none yet"
        raise HTTPException(422, f"no hedge named {', '.join(unknown)} (known: {names})")
    return sorted(set(wanted) or known)
