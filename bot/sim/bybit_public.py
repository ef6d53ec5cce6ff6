"""Public Bybit v5 market endpoints over the venue (no signature)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.sim import bybit_wire as wire
from bot.sim.book import offset_page
from bot.sim.bybit_params import Params
from bot.sim.errors import params_error
from bot.sim.feed_base import BarKind
from bot.sim.markets import CATEGORIES
from bot.sim.venue import Venue

INTERVALS = {
    **{str(m): timedelta(minutes=m) for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
    "D": timedelta(days=1),
    "W": timedelta(weeks=1),
}


def category_of(p: Params, default: str | None = None) -> str:
    category = p.text("category", default)
    if category is None:
        raise params_error("category is required")
    return category


def instruments(venue: Venue, p: Params) -> dict[str, Any]:
    category = category_of(p)
    rows: list = []
    if category in CATEGORIES and p.text("status", "Trading") == "Trading":
        specs = venue.instruments(category, p.get("symbol"))
        base = p.get("baseCoin")
        rows = [wire.instrument(s) for s in specs if base is None or s.base == base]
    page, cursor = venue_page(rows, p, default=500)
    return {"category": category, "list": page, "nextPageCursor": cursor}


def venue_page(rows: list, p: Params, default: int, high: int = 1000) -> tuple[list, str]:
    return offset_page(rows, p.integer("limit", default, 1, high), p.get("cursor"))


def tickers(venue: Venue, p: Params) -> dict[str, Any]:
    category = category_of(p)
    rows = []
    if category in CATEGORIES:
        base = p.get("baseCoin")
        rows = [
            wire.ticker(t)
            for t in venue.tickers(category, p.get("symbol"))
            if base is None or t.spec.base == base
        ]
    return {"category": category, "list": rows}


def _klines(venue: Venue, p: Params, kind: BarKind | None, full: bool) -> dict[str, Any]:
    category = category_of(p, "linear")
    if category not in CATEGORIES:
        raise params_error(f"category {category!r} not supported")
    symbol = p.required("symbol")
    interval = INTERVALS.get(p.required("interval"))
    if interval is None:
        raise params_error(f"interval {p.get('interval')!r} not supported")
    bars = venue.klines(
        category,
        symbol,
        interval,
        start=p.time("start"),
        end=p.time("end"),
        limit=p.integer("limit", 200, 1, 1000),
        kind=kind,
    )
    rows = [wire.kline(b) if full else wire.kline(b)[:5] for b in reversed(bars)]
    return {"symbol": symbol, "category": category, "list": rows}


def kline(venue: Venue, p: Params) -> dict[str, Any]:
    return _klines(venue, p, None, True)


def mark_kline(venue: Venue, p: Params) -> dict[str, Any]:
    return _klines(venue, p, "mark", False)


def index_kline(venue: Venue, p: Params) -> dict[str, Any]:
    return _klines(venue, p, "spot", False)


def funding_history(venue: Venue, p: Params) -> dict[str, Any]:
    category = category_of(p)
    if category != "linear":
        raise params_error("funding history is for linear perps")
    symbol = p.required("symbol")
    rows = venue.funding_history(
        symbol,
        start=p.time("startTime"),
        end=p.time("endTime"),
        limit=p.integer("limit", 200, 1, 200),
    )
    return {
        "category": category,
        "list": [
            {"symbol": symbol, "fundingRate": wire.num(rate), "fundingRateTimestamp": wire.ms(ts)}
            for ts, rate in rows
        ],
    }


def collateral_tiers(venue: Venue, p: Params) -> dict[str, Any]:
    """GET /v5/spot-margin-trade/collateral: the tiered collateral value ratios in force."""
    wanted = p.get("currency")
    rows = []
    for coin, tiers in sorted(venue.config.collateral.items()):
        if wanted not in (None, coin):
            continue
        low, ratios = Decimal(0), []
        for high, ratio in tiers:
            ratios.append(
                {"minQty": wire.num(low), "maxQty": wire.num(high), "collateralRatio": str(ratio)}
            )
            low = high if high is not None else low
        rows.append({"currency": coin, "collateralRatioList": ratios})
    return {"list": rows}


ROUTES = {
    "/v5/market/instruments-info": instruments,
    "/v5/market/tickers": tickers,
    "/v5/market/kline": kline,
    "/v5/market/mark-price-kline": mark_kline,
    "/v5/market/index-price-kline": index_kline,
    "/v5/market/funding/history": funding_history,
    "/v5/spot-margin-trade/collateral": collateral_tiers,
}
