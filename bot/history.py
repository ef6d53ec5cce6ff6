"""Market history for strategies that declare a need: fetched through the port, cached in memory
and in the database, and fetched incrementally (a bar already known is never fetched again).

Needs on the same symbol and timeframe (or the same perp's funding) are merged at the largest
count asked for, and a count larger than the one already loaded back-fills the older bars once:
a strategy that needs 721 bars is never starved by another that needs 169 of the same series."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from bot.domain import Bar, FundingRate, history_key
from bot.exchange.port import ExchangePort
from bot.store.repo import Store

_TF_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_FETCH = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# a settlement the venue has not published yet is asked for again this much later
FUNDING_RETRY = timedelta(minutes=5)


def timeframe_delta(timeframe: str) -> timedelta:
    unit = timeframe[-1]
    if unit not in _TF_SECONDS or not timeframe[:-1].isdigit():
        raise ValueError(f"unsupported timeframe {timeframe!r} (use e.g. 1m, 15m, 1h, 4h, 1d)")
    return timedelta(seconds=int(timeframe[:-1]) * _TF_SECONDS[unit])


def largest(needs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Key -> the largest count any need asks for."""
    out: dict[str, int] = {}
    for key, count in needs:
        out[key] = max(out.get(key, 0), count)
    return out


class HistoryCache:
    def __init__(self, port: ExchangePort, store: Store | None) -> None:
        self._port = port
        self._store = store
        self._bars: dict[str, list[Bar]] = {}
        self._depth: dict[str, int] = {}  # bars back-filled per key (loaded or asked for)
        self._funding: dict[str, list[FundingRate]] = {}
        self._funding_depth: dict[str, int] = {}
        self._funding_due: dict[str, datetime] = {}  # when the next settlement may be published
        self.fetches = 0  # requests sent, for tests and the cycle summary

    async def bars(
        self, needs: Iterable[tuple[str, str, int]], now: datetime
    ) -> Mapping[str, tuple[Bar, ...]]:
        """Closed bars per ``history_key``, oldest first, as many as the largest need asks for."""
        series: dict[str, tuple[str, str]] = {}
        counts: list[tuple[str, int]] = []
        for symbol, timeframe, count in needs:
            key = history_key(symbol, timeframe)
            series[key] = (symbol, timeframe)
            counts.append((key, count))
        out: dict[str, tuple[Bar, ...]] = {}
        for key, count in largest(counts).items():
            symbol, timeframe = series[key]
            await self._refresh(symbol, timeframe, count, now)
            out[key] = tuple(self._bars.get(key, [])[-count:])
        return out

    async def _refresh(self, symbol: str, timeframe: str, count: int, now: datetime) -> None:
        key = history_key(symbol, timeframe)
        step = timeframe_delta(timeframe)
        bars = self._bars.setdefault(key, [])
        # the newest bar whose period has ended opens at `newest_open`
        newest_open = EPOCH + ((now - EPOCH) // step) * step - step
        start = newest_open - step * (count - 1)
        new: list[Bar] = []
        if self._depth.get(key, 0) < count:
            if self._store is not None:
                self._merge(bars, await self._store.bars(symbol, timeframe, since=start))
            if not bars or bars[0].ts > start:  # older bars missing: back-fill them once
                end = bars[0].ts if bars else now
                new += self._merge(bars, await self._fetch(symbol, timeframe, start, end, step))
            self._depth[key] = max(count, self._depth.get(key, 0))
        if not bars or bars[-1].ts < newest_open:
            since = bars[-1].ts + step if bars else start
            new += self._merge(bars, await self._fetch(symbol, timeframe, since, now, step))
        # keep the deepest need ever asked for: a smaller one later must not trim it away
        del bars[: max(0, len(bars) - max(self._depth[key], MAX_FETCH))]
        if self._store is not None and new:
            await self._store.add_bars(symbol, timeframe, new)

    @staticmethod
    def _merge(bars: list[Bar], fetched: Iterable[Bar]) -> list[Bar]:
        """Add the bars not yet known, keep the list sorted; return the added ones."""
        known = {b.ts for b in bars}
        new = [b for b in fetched if b.ts not in known]
        bars.extend(new)
        bars.sort(key=lambda b: b.ts)
        return new

    async def _fetch(
        self, symbol: str, timeframe: str, since: datetime, until: datetime, step: timedelta
    ) -> list[Bar]:
        """Closed bars opening in [since, until), page by page."""
        out: list[Bar] = []
        while since + step <= until:
            limit = min(MAX_FETCH, int((until - since) / step) + 1)
            self.fetches += 1
            page = list(await self._port.fetch_ohlcv(symbol, timeframe, since, limit))
            out.extend(b for b in page if b.ts + step <= until and b.ts >= since)
            if len(page) < limit or not page:
                break
            since = page[-1].ts + step
        return out

    async def funding(
        self, needs: Iterable[tuple[str, int]], now: datetime
    ) -> Mapping[str, tuple[FundingRate, ...]]:
        """Settled funding rates per perp, oldest first; asked for again only once the next
        settlement is due (or a larger count is needed), not on every cycle."""
        out: dict[str, tuple[FundingRate, ...]] = {}
        for symbol, count in largest(needs).items():
            rates = self._funding.setdefault(symbol, [])
            deeper = self._funding_depth.get(symbol, 0) < count
            if deeper or now >= self._funding_due.get(symbol, now):
                await self._fetch_funding(symbol, rates, count, now, deeper)
            out[symbol] = tuple(rates[-count:])
        return out

    async def _fetch_funding(
        self, symbol: str, rates: list[FundingRate], count: int, now: datetime, deeper: bool
    ) -> None:
        newest = rates[-1] if rates else None
        since = None if deeper or newest is None else newest.next_funding_time
        if newest is not None and since is not None:
            missed = (now - since) / timedelta(hours=max(1, newest.interval_hours))
            if missed >= count:
                since = None  # away for longer than the need: the newest ones, not the next ones
        self.fetches += 1
        fetched = await self._port.fetch_funding_rate_history(symbol, since, count)
        seen = {r.next_funding_time for r in rates}
        rates.extend(r for r in fetched if r.next_funding_time not in seen)
        rates.sort(key=lambda r: r.next_funding_time or EPOCH)
        self._funding_depth[symbol] = depth = max(count, self._funding_depth.get(symbol, 0))
        del rates[: max(0, len(rates) - depth)]
        last = rates[-1] if rates else None
        due = now
        if last is not None and last.next_funding_time is not None:
            due = last.next_funding_time + timedelta(hours=max(1, last.interval_hours))
        # an overdue settlement the venue has not published yet: ask a little later
        self._funding_due[symbol] = max(due, now + FUNDING_RETRY)
