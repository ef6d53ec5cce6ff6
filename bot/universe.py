"""Which symbols the configured hedges touch, the value of the spot they hedge, whether that spot
is collateral, and what to do about markets the venue no longer lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from bot.domain import ZERO, IntentStatus, MarketInfo, Snapshot
from bot.exchange.port import ExchangePort
from bot.exchange.split import SplitExchange
from bot.store.repo import Store
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


def spot_is_collateral(port: ExchangePort) -> bool:
    """Whether spot coins back the perps: on one unified account (Bybit, the simulator) they do;
    with separate spot and futures wallets (Binance USD-M, a split port) they do not."""
    if isinstance(port, SplitExchange):
        return False
    profile = getattr(port, "profile", None)
    return bool(profile.unified) if profile is not None else True


async def close_unlisted(
    store: Store, markets: Mapping[str, MarketInfo], hedges: Iterable[Strategy]
) -> list[str]:
    """A market that the venue no longer lists as active (delisted, or ``active: false``) cannot be
    asked about: its unresolved intents are closed as cancelled with the reason, instead of a
    fatal "unknown symbol" on every start. Returns one warning per closed intent and per hedge
    whose perp is gone (that hedge does not trade; the others go on)."""
    warnings: list[str] = []
    open_ = (IntentStatus.PENDING, IntentStatus.UNKNOWN, IntentStatus.OPEN)
    for intent in await store.intents(statuses=open_):
        if intent.symbol in markets:
            continue
        why = f"market {intent.symbol} is no longer listed as active on the venue"
        await store.update_intent(intent.client_order_id, IntentStatus.CANCELLED, reason=why)
        warnings.append(f"{intent.client_order_id}: cancelled, {why}")
    for s in hedges:
        gone = [p for p in perp_symbols([s]) if p not in markets]
        if gone:
            warnings.append(
                f"hedge {s.hedge.name}: {', '.join(gone)} not listed as active on the venue; "
                "it cannot trade until the market returns or the hedge is changed"
            )
    return warnings
