"""The account as one cycle saw it, stored in the cycle summary so that the dashboard, the API and
the metrics need no venue: equity, margin ratio, and per perp and spot asset the size, price and
liquidation distance. Amounts stay Decimal (the summary's JSON keeps them as exact strings)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bot.domain import HedgeSpec, Snapshot
from bot.risk import margin_equity
from bot.universe import hedged_spot_value

ZERO = Decimal(0)


def liquidation_distance(size: Decimal, mark: Decimal, liq: Decimal | None) -> Decimal | None:
    """How far the mark may move against the position before liquidation, as a fraction."""
    if liq is None or liq <= 0 or mark <= 0 or size == 0:
        return None
    return (liq - mark) / mark if size < 0 else (mark - liq) / mark


def account_view(
    snapshot: Snapshot, hedges: Iterable[HedgeSpec], quote: str, collateral_ratio: Decimal
) -> dict[str, Any]:
    specs = list(hedges)
    perps: dict[str, dict[str, Any]] = {}
    distances = []
    for symbol, p in sorted(snapshot.positions.items()):
        dist = liquidation_distance(p.size, p.mark_price, p.liquidation_price)
        if dist is not None:
            distances.append(dist)
        perps[symbol] = {
            "size": p.size,
            "mark": p.mark_price,
            "entry": p.entry_price,
            "liquidation": p.liquidation_price,
            "liquidation_distance": dist,
            "unrealized_pnl": p.unrealized_pnl,
        }
    assets = sorted({h.spot_asset for h in specs if h.spot_asset})
    spot = {
        a: {"qty": snapshot.spot_qty(a), "price": snapshot.price(f"{a}/{quote}")} for a in assets
    }
    equity = margin_equity(snapshot, quote, collateral_ratio)
    maint = sum((p.maintenance_margin for p in snapshot.positions.values()), ZERO)
    spot_value = hedged_spot_value(snapshot, assets, quote)
    upnl = sum((p.unrealized_pnl for p in snapshot.positions.values()), ZERO)
    return {
        "quote": quote,
        "quote_balance": snapshot.spot_qty(quote),
        "spot_value": spot_value,
        "unrealized_pnl": upnl,
        # everything at market, no haircut: what the hedged holdings are worth now
        "total_value": snapshot.spot_qty(quote) + spot_value + upnl,
        "margin_equity": equity,
        "maintenance_margin": maint,
        "margin_ratio": maint / equity if equity > 0 else None,
        "min_liquidation_distance": min(distances) if distances else None,
        "perps": perps,
        "spot": spot,
        "hedges": {h.name: {"spot_asset": h.spot_asset, "perp": h.perp_symbol} for h in specs},
    }


def requests_used(port: object) -> int | None:
    """Venue calls the port has made so far, when it counts them (the ccxt ports do)."""
    used = getattr(port, "requests_used", None)
    return used if isinstance(used, int) else None
