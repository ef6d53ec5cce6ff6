"""Prices set by hand on top of any feed (``/sim/price``, scenario steps), so that they persist.

Setting a coin's price at time ``at`` records, per series (spot, perp, mark), the factor between
the wanted level and the underlying feed's level then. From ``at`` on every price and bar of that
series is the underlying one times the factor: the feed keeps moving as before, from the new
level, instead of snapping back. Without any setting the wrapper answers exactly as its feed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.domain import Bar
from bot.sim.bars import aggregate
from bot.sim.feed_base import BarKind, PriceFeed, PricePoint, funding_interval

ONE = Decimal(1)
PRICE_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class _Factors:
    spot: Decimal
    perp: Decimal
    mark: Decimal

    def of(self, kind: BarKind) -> Decimal:
        return getattr(self, kind)


IDENTITY = _Factors(ONE, ONE, ONE)


def _scale(value: Decimal, factor: Decimal) -> Decimal:
    return value if factor == ONE else (value * factor).quantize(PRICE_QUANTUM)


class PinnedFeed:
    def __init__(self, feed: PriceFeed) -> None:
        self.inner = feed
        self._times: dict[str, list[datetime]] = {}
        self._factors: dict[str, list[_Factors]] = {}

    @property
    def bases(self) -> tuple[str, ...]:
        return self.inner.bases

    @property
    def resolution(self) -> timedelta:
        return self.inner.resolution

    def set_price(
        self, at: datetime, base: str, price: Decimal, basis: Decimal | None = None
    ) -> None:
        """From ``at``: spot and index at ``price``; perp and mark at ``price`` x (1 + basis), or,
        without a basis, at their current ratios to the spot (the basis is kept)."""
        if base not in self.inner.bases:
            raise KeyError(base)
        if price <= 0:
            raise ValueError("price must be positive")
        raw = self.inner.prices(at)[base]
        old = self._factor_at(base, at)
        spot = price / raw.spot
        if basis is None:
            factors = _Factors(spot, spot * old.perp / old.spot, spot * old.mark / old.spot)
        else:
            perp = price * (ONE + basis)
            factors = _Factors(spot, perp / raw.perp, perp / raw.mark)
        times = self._times.setdefault(base, [])
        values = self._factors.setdefault(base, [])
        if times and at < times[-1]:
            raise ValueError("prices are set in time order")
        if times and times[-1] == at:
            values[-1] = factors
        else:
            times.append(at)
            values.append(factors)

    def _factor_at(self, base: str, at: datetime) -> _Factors:
        times = self._times.get(base)
        if not times:
            return IDENTITY
        i = bisect_right(times, at) - 1
        return self._factors[base][i] if i >= 0 else IDENTITY

    # ---- PriceFeed ----------------------------------------------------------------------------
    def prices(self, at: datetime) -> Mapping[str, PricePoint]:
        raw = self.inner.prices(at)
        if not self._times:
            return raw
        out = {}
        for base, p in raw.items():
            f = self._factor_at(base, at)
            out[base] = PricePoint(
                _scale(p.spot, f.spot),
                _scale(p.perp, f.perp),
                _scale(p.mark, f.mark),
                p.funding_rate,
            )
        return out

    def funding_rate(self, base: str, settlement: datetime) -> Decimal:
        return self.inner.funding_rate(base, settlement)

    def funding_interval(self, base: str) -> timedelta:
        return funding_interval(self.inner, base)

    def change_times(self, after: datetime, until: datetime) -> Sequence[datetime]:
        times = set(self.inner.change_times(after, until))
        for pinned in self._times.values():
            times.update(t for t in pinned if after < t <= until)
        return sorted(times)

    def bars(
        self, base: str, kind: BarKind, start: datetime, end: datetime, timeframe: timedelta
    ) -> list[Bar]:
        bars = self.inner.bars(base, kind, start, end, timeframe)
        times = self._times.get(base)
        if not times:
            return bars
        out = []
        for bar in bars:
            close_at = min(bar.ts + timeframe, end)
            first, last = self._factor_at(base, bar.ts), self._factor_at(base, close_at)
            if first == last and not any(bar.ts < t < close_at for t in times):
                out.append(_scaled_bar(bar, last.of(kind), last.of(kind)))
            else:  # a price was set inside this bar: rebuild it from the feed's finest bars
                fine = self.inner.bars(base, kind, bar.ts, close_at, self.resolution)
                parts = [
                    _scaled_bar(
                        b,
                        self._factor_at(base, b.ts).of(kind),
                        self._factor_at(base, min(b.ts + self.resolution, close_at)).of(kind),
                    )
                    for b in fine
                ]
                out.extend(aggregate(parts, timeframe) if parts else [bar])
        return out

    def funding_history(
        self, base: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, Decimal]]:
        return self.inner.funding_history(base, start, end)


def _scaled_bar(bar: Bar, open_factor: Decimal, close_factor: Decimal) -> Bar:
    o, c = _scale(bar.open, open_factor), _scale(bar.close, close_factor)
    high = max(o, c, _scale(bar.high, close_factor))
    low = min(o, c, _scale(bar.low, close_factor))
    return Bar(bar.ts, o, high, low, c, bar.volume)
