"""A scripted price feed for tests and demos: prices change only when told, at given times.

feed = ManualFeed({"BTC": 60000, "ETH": 3000}, start=t0)
feed.set(t0 + timedelta(minutes=5), "BTC", mark=66000)   # spot/perp follow unless given
venue.advance_to(t0 + timedelta(minutes=5))              # the venue sees the change then
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from bot.domain import Bar
from bot.sim.bars import FUNDING_INTERVAL, ceil_time, check_timeframe, floor_time
from bot.sim.feed_base import BarKind, FeedRangeError, PricePoint


class ManualFeed:
    def __init__(
        self,
        prices: Mapping[str, Decimal | int | str],
        start: datetime,
        funding_rate: Decimal | str = "0.0001",
        resolution: timedelta = timedelta(minutes=1),
    ) -> None:
        self._res = resolution
        self._funding = {base: Decimal(str(funding_rate)) for base in prices}
        self._timeline: dict[str, list[tuple[datetime, PricePoint]]] = {}
        for base, price in prices.items():
            p = Decimal(str(price))
            self._timeline[base] = [(start, PricePoint(p, p, p, self._funding[base]))]

    @property
    def bases(self) -> tuple[str, ...]:
        return tuple(self._timeline)

    @property
    def resolution(self) -> timedelta:
        return self._res

    def set(
        self,
        at: datetime,
        base: str,
        price: Decimal | int | str | None = None,
        *,
        spot: Decimal | int | str | None = None,
        perp: Decimal | int | str | None = None,
        mark: Decimal | int | str | None = None,
    ) -> None:
        """From ``at`` on: ``price`` sets all three; otherwise unspecified ones keep their value,
        except that a lone ``mark`` also moves perp and spot."""
        timeline = self._timeline[base]
        if at <= timeline[-1][0]:
            raise ValueError("changes must be scripted in time order")
        old = timeline[-1][1]
        if price is not None:
            spot = perp = mark = price
        elif mark is not None and spot is None and perp is None:
            spot = perp = mark
        timeline.append(
            (
                at,
                PricePoint(
                    spot=Decimal(str(spot)) if spot is not None else old.spot,
                    perp=Decimal(str(perp)) if perp is not None else old.perp,
                    mark=Decimal(str(mark)) if mark is not None else old.mark,
                    funding_rate=old.funding_rate,
                ),
            )
        )

    def set_funding(self, base: str, rate: Decimal | str) -> None:
        """The rate of every settlement (past ones included, for simplicity)."""
        self._funding[base] = Decimal(str(rate))

    def _at(self, base: str, at: datetime) -> PricePoint:
        timeline = self._timeline[base]
        i = bisect_right([t for t, _ in timeline], at) - 1
        if i < 0:
            raise FeedRangeError(f"no {base} price before {at.isoformat()}")
        p = timeline[i][1]
        return PricePoint(p.spot, p.perp, p.mark, self._funding[base])

    def prices(self, at: datetime) -> Mapping[str, PricePoint]:
        return {base: self._at(base, at) for base in self._timeline}

    def funding_rate(self, base: str, settlement: datetime) -> Decimal:
        return self._funding[base]

    def change_times(self, after: datetime, until: datetime) -> list[datetime]:
        times = {t for tl in self._timeline.values() for t, _ in tl if after < t <= until}
        return sorted(times)

    def bars(
        self, base: str, kind: BarKind, start: datetime, end: datetime, timeframe: timedelta
    ) -> list[Bar]:
        """Flat bars: each closes at the price known at its end (volume 1)."""
        check_timeframe(timeframe, self._res)
        first_known = self._timeline[base][0][0]
        out = []
        t = max(ceil_time(start, timeframe), ceil_time(first_known, timeframe))
        while t < end:
            close_at = min(t + timeframe, end)
            o = getattr(self._at(base, t), kind)
            c = getattr(self._at(base, close_at), kind)
            out.append(Bar(t, o, max(o, c), min(o, c), c, Decimal(1)))
            t += timeframe
        return out

    def funding_history(
        self, base: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, Decimal]]:
        out = []
        t = max(
            ceil_time(start, FUNDING_INTERVAL),
            floor_time(self._timeline[base][0][0], FUNDING_INTERVAL),
        )
        while t <= end:
            out.append((t, self._funding[base]))
            t += FUNDING_INTERVAL
        return out
