"""Market specifications and the venue's configuration, with Bybit-like defaults.

Adding a coin: put its filters in ``KNOWN_FILTERS`` (or rely on the generic fallback) and list its
base in ``VenueConfig.for_bases``; the feed must price it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from bot.sim.errors import params_error

Category = Literal["spot", "linear"]
CATEGORIES: tuple[Category, ...] = ("spot", "linear")
D = Decimal


@dataclass(frozen=True, slots=True)
class MarketSpec:
    symbol: str  # venue id, e.g. "BTCUSDT" (the spot and the perp share it; category tells)
    category: Category
    base: str
    quote: str
    tick: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal = Decimal(5)
    max_leverage: Decimal = Decimal(1)
    launch_ms: int = 1_584_230_400_000
    # instruments-info ``fundingInterval`` (minutes): Bybit lists 480 for most perps, 60 or 240
    # for some (the recorded fixture has ZRXUSDT at 60); settlements fall on that UTC grid
    funding_minutes: int = 480
    max_price: Decimal = Decimal("1999999.80")  # priceFilter.maxPrice; liqPrice "" beyond it

    @property
    def settle(self) -> str | None:
        return self.quote if self.category == "linear" else None

    @property
    def funding_interval(self) -> timedelta:
        return _interval(self.funding_minutes)


@functools.cache
def _interval(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)  # built once: a backtest asks for it a million times


@dataclass(frozen=True, slots=True)
class _Filters:
    spot_tick: Decimal
    spot_step: Decimal
    spot_min: Decimal
    perp_tick: Decimal
    perp_step: Decimal
    perp_max_leverage: Decimal


# Close to Bybit's live filters for these coins (spot basePrecision, perp qtyStep).
KNOWN_FILTERS: Mapping[str, _Filters] = MappingProxyType(
    {
        "BTC": _Filters(D("0.01"), D("0.000001"), D("0.000048"), D("0.10"), D("0.001"), D(100)),
        "ETH": _Filters(D("0.01"), D("0.00001"), D("0.00062"), D("0.01"), D("0.01"), D(100)),
        "SOL": _Filters(D("0.01"), D("0.001"), D("0.011"), D("0.010"), D("0.1"), D(100)),
    }
)
FUNDING_MINUTES = (60, 240, 480)

# Collateral value ratios of a unified account, tiered by the quantity held: (upper bound of the
# tier in coin units or None for no bound, ratio). Shape and rules from Bybit's help centre
# "Understanding Collateral Value Ratios in Unified Trading Account" (margin balance = sum of
# coin x USD index x ratio, applied tier by tier to positive balances, 0 above the last tier) and
# GET /v5/spot-margin-trade/collateral (tiers in coin quantity); the 0.95 for BTC is the value
# GET /v5/account/collateral-info shows for BTC. Bybit changes the live tables: these defaults are
# representative, not a copy, and a VenueConfig may carry others.
Tiers = tuple[tuple[Decimal | None, Decimal], ...]
DEFAULT_COLLATERAL: Mapping[str, Tiers] = MappingProxyType(
    {
        "USDT": ((None, D(1)),),
        "USDC": ((None, D(1)),),
        "BTC": ((D(1000), D("0.95")), (D(5000), D("0.9")), (None, D(0))),
        "ETH": ((D(10000), D("0.95")), (D(50000), D("0.9")), (None, D(0))),
        "SOL": ((D(100000), D("0.85")), (None, D(0))),
    }
)
GENERIC_COLLATERAL: Tiers = ((D(100000), D("0.5")), (None, D(0)))

GENERIC_FILTERS = _Filters(D("0.0001"), D("0.01"), D("0.01"), D("0.0001"), D("1"), D(50))


def markets_for(
    base: str, quote: str = "USDT", funding_minutes: int = 480
) -> tuple[MarketSpec, MarketSpec]:
    if funding_minutes not in FUNDING_MINUTES:
        raise ValueError(f"funding interval {funding_minutes} min: Bybit lists 60, 240 or 480")
    f = KNOWN_FILTERS.get(base, GENERIC_FILTERS)
    symbol = f"{base}{quote}"
    spot = MarketSpec(
        symbol, "spot", base, quote, f.spot_tick, f.spot_step, f.spot_min, D(10_000_000)
    )
    perp = MarketSpec(
        symbol,
        "linear",
        base,
        quote,
        f.perp_tick,
        f.perp_step,
        f.perp_step,
        f.perp_step * 10_000_000,
        max_leverage=f.perp_max_leverage,
        funding_minutes=funding_minutes,
    )
    return spot, perp


def _default_wallet() -> Mapping[str, Decimal]:
    return MappingProxyType({"USDT": D(100_000), "BTC": D(2), "ETH": D(30)})


@dataclass(frozen=True)
class VenueConfig:
    markets: tuple[MarketSpec, ...] = field(
        default_factory=lambda: markets_for("BTC") + markets_for("ETH")
    )
    perp_taker_fee: Decimal = Decimal("0.00055")
    perp_maker_fee: Decimal = Decimal("0.0002")
    spot_taker_fee: Decimal = Decimal("0.001")
    spot_maker_fee: Decimal = Decimal("0.001")
    slippage_bps: Decimal = Decimal(2)  # market fills: last price +/- this; buys pay more
    spread_bps: Decimal = Decimal(1)  # quoted bid/ask width around the same last price
    # accepted for older callers: every market now fills at its own last price (issue 7.10)
    fill_at_last: bool = True
    # tickers' 24 h figures (informational: no decision reads them) cost a day of bars per market
    # and hour; a backtest, where every cycle is a new hour, turns them off (they read the last)
    day_stats: bool = True
    default_leverage: Decimal = Decimal(10)
    maintenance_margin_rate: Decimal = Decimal("0.005")
    wallet: Mapping[str, Decimal] = field(default_factory=_default_wallet)
    collateral: Mapping[str, Tiers] = field(default_factory=lambda: DEFAULT_COLLATERAL)

    @classmethod
    def for_bases(
        cls,
        bases: Iterable[str],
        wallet: Mapping[str, Decimal | int | str] | None = None,
        funding_minutes: Mapping[str, int] | None = None,
        **kw,
    ) -> VenueConfig:
        minutes = funding_minutes or {}
        markets = tuple(
            m for base in bases for m in markets_for(base, "USDT", minutes.get(base, 480))
        )
        if wallet is not None:
            kw["wallet"] = MappingProxyType({k: D(str(v)) for k, v in wallet.items()})
        return cls(markets=markets, **kw)

    def market(self, category: str, symbol: str) -> MarketSpec:
        found = self._by_symbol.get((category, symbol))
        if found is None:
            raise params_error(f"symbol {symbol!r} invalid for category {category!r}")
        return found

    @functools.cached_property
    def _by_symbol(self) -> Mapping[tuple[str, str], MarketSpec]:
        """The markets by (category, symbol), the first of each: every query looks one up."""
        index: dict[tuple[str, str], MarketSpec] = {}
        for m in self.markets:
            index.setdefault((m.category, m.symbol), m)
        return index

    def perp_of(self, base: str) -> MarketSpec | None:
        return next((m for m in self.markets if m.category == "linear" and m.base == base), None)

    def collateral_value(self, coin: str, amount: Decimal, price: Decimal) -> Decimal:
        """USD value a balance counts for as margin: tier by tier at its collateral value ratio;
        a negative balance (a debt) counts at 100%."""
        if amount <= 0:
            return amount * price
        tiers = self.collateral.get(coin, GENERIC_COLLATERAL)
        value, low = Decimal(0), Decimal(0)
        for high, ratio in tiers:
            top = amount if high is None else min(amount, high)
            if top > low:
                value += (top - low) * ratio
            if high is None or amount <= high:
                break
            low = high
        return value * price

    def fee_rate(self, category: Category, maker: bool) -> Decimal:
        if category == "linear":
            return self.perp_maker_fee if maker else self.perp_taker_fee
        return self.spot_maker_fee if maker else self.spot_taker_fee
