"""The report for a period, from the ledgers and the cycles' account figures: fills, fees and
funding per hedge, the hedged and unhedged value at both ends, and hedge effectiveness
(1 - var(hedged returns) / var(unhedged returns) over the recorded cycles)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from statistics import pvariance
from typing import Any

from bot.review.listing import Filters, listing
from bot.store.repo import Store
from bot.web.views import value_series

ZERO = Decimal(0)


def _returns(values: list[Decimal]) -> list[Decimal]:
    return [b / a - 1 for a, b in pairwise(values) if a]


def effectiveness(series: list[dict[str, Any]]) -> float | None:
    hedged = _returns([p["hedged"] for p in series])
    unhedged = _returns([p["unhedged"] for p in series])
    if len(unhedged) < 2:
        return None
    var_u = pvariance(unhedged)
    return None if var_u == 0 else float(1 - pvariance(hedged) / var_u)


async def period_report(
    store: Store, since: datetime | None, until: datetime | None, hedge: str | None
) -> dict[str, Any]:
    f = Filters(since=since, until=until, hedge=hedge, limit=None)
    fills = await listing(store, "fills", f)
    funding = await listing(store, "funding", f)
    orders = await listing(store, "orders", f)
    rejections = await listing(store, "rejections", f)
    per: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"fills": 0, "bought": ZERO, "sold": ZERO, "fees": defaultdict(lambda: ZERO)}
    )
    for fill in fills:
        row = per[fill["hedge"] or "(foreign)"]
        row["fills"] += 1
        row["bought" if fill["side"] == "buy" else "sold"] += fill["qty"]
        row["fees"][fill["fee_asset"]] += fill["fee"]
    funding_by_symbol: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for payment in funding:
        funding_by_symbol[payment["symbol"]] += payment["amount"]
    series = await value_series(store, since=since, until=until, points=100_000)
    total: dict[str, Any] = {
        "fills": len(fills),
        "orders": len(orders),
        "rejections": len(rejections),
        "funding_received": sum(funding_by_symbol.values(), ZERO),
        "effectiveness": effectiveness(series),
    }
    if series:
        first, last = series[0], series[-1]
        total.update(
            hedged_start=first["hedged"],
            hedged_end=last["hedged"],
            hedged_change=last["hedged"] - first["hedged"],
            unhedged_start=first["unhedged"],
            unhedged_end=last["unhedged"],
            unhedged_change=last["unhedged"] - first["unhedged"],
        )
    return {
        "period": {
            "from": since or (series[0]["time"] if series else None),
            "to": until or (series[-1]["time"] if series else None),
        },
        "hedges": {name: {**v, "fees": dict(v["fees"])} for name, v in sorted(per.items())},
        "funding_by_symbol": dict(funding_by_symbol),
        "total": total,
    }
