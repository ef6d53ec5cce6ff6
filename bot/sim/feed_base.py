"""What the venue needs from a price source. Implementations: ``SyntheticFeed`` and ``ReplayFeed``.

Time convention (no look-ahead): the price "at" time t is the close of the last feed bar that has
completed by t, and the bars a feed serves up to t are built only from data known at t.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from bot.domain import Bar
from bot.sim.bars import FUNDING_INTERVAL

BarKind = Literal["spot", "perp", "mark"]
BAR_KINDS: tuple[BarKind, ...] = ("spot", "perp", "mark")


class FeedRangeError(LookupError):
    """No data for the requested time (a replay before its first or after its last bar)."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    spot: Decimal  # spot close, also the index price
    perp: Decimal  # perp last trade (close)
    mark: Decimal
    funding_rate: Decimal  # rate of the settlement at, or last before, the queried time

    @property
    def index(self) -> Decimal:
        return self.spot


@runtime_checkable
class PriceFeed(Protocol):
    @property
    def bases(self) -> tuple[str, ...]:
        """Base coins this feed prices, e.g. ("BTC", "ETH")."""
        ...

    @property
    def resolution(self) -> timedelta:
        """Length of the feed's finest bar; prices change only on this grid."""
        ...

    def prices(self, at: datetime) -> Mapping[str, PricePoint]:
        """Every base's prices at ``at`` (raises FeedRangeError outside the data)."""
        ...

    def funding_rate(self, base: str, settlement: datetime) -> Decimal:
        """The rate of the settlement at ``settlement``, on the feed's grid (``funding_interval``
        below; positive: longs pay)."""
        ...

    def change_times(self, after: datetime, until: datetime) -> Sequence[datetime]:
        """Times in (after, until] at which prices change (bar close times)."""
        ...

    def bars(
        self, base: str, kind: BarKind, start: datetime, end: datetime, timeframe: timedelta
    ) -> list[Bar]:
        """Bars of ``timeframe`` (a multiple of ``resolution``) opening in [start, end), oldest
        first, built only from data complete by ``end``: the last one may still be forming."""
        ...

    def funding_history(
        self, base: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, Decimal]]:
        """Settled funding (time, rate) with start <= time <= end, oldest first."""
        ...


def funding_interval(feed: PriceFeed, base: str) -> timedelta:
    """The grid of the rates ``feed.funding_rate`` gives for ``base``: 8 h unless the feed says
    otherwise with a ``funding_interval(base)`` method (a replay of 4-hourly history does)."""
    own = getattr(feed, "funding_interval", None)
    return FUNDING_INTERVAL if own is None else own(base)
