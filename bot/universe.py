"""Which symbols the configured hedges touch, and the value of the spot they hedge."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from bot.domain import ZERO, Snapshot
from strategies.base import Strategy


def perp_symbols(strategies: Iterable[Strategy]) -> list[str]:
    out: set[str] = set()
    for s in strategies:
        if s.hedge.perp_symbol:
            out.add(s.hedge.perp_symbol)
        out.update(getattr(s.params, "perps", ()) or ())  # multi-asset strategies (portfolio)
    return sorted(out)


def spot_assets(strategies: Iterable[Strategy]) -> list[str]:
    out: set[str] = set()
    for s in strategies:
        if s.hedge.spot_asset:
            out.add(s.hedge.spot_asset)
        out.update(getattr(s.params, "assets", ()) or ())
    return sorted(out)


def hedged_spot_value(snapshot: Snapshot, assets: Iterable[str], quote: str) -> Decimal:
    """Spot holdings of the hedged assets at spot price (the perp's mark when no spot ticker)."""
    total = ZERO
    for asset in assets:
        price = snapshot.price(f"{asset}/{quote}")
        if price is None:
            perp = next(
                (
                    m.symbol
                    for m in snapshot.markets.values()
                    if m.base == asset and m.kind.value == "perp"
                ),
                None,
            )
            price = snapshot.price(perp) if perp else None
        total += snapshot.spot_qty(asset) * (price or ZERO)
    return total
