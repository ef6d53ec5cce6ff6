"""Market history for strategies that declare a need: fetched through the port, cached in memory
and in the database, and fetched incrementally (a bar already known is never fetched again)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.domain import Bar, FundingRate, history_key
from bot.exchange.port import ExchangePort
from bot.store.repo import Store

_TF_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_FETCH = 1000


def timeframe_delta(timeframe: str) -> timedelta:
    unit = timeframe[-1]
    if unit not in _TF_SECONDS or not timeframe[:-1].isdigit():
        raise ValueError(f"unsupported timeframe {timeframe!r} (use e.g. 1m, 15m, 1h, 4h, 1d)")
    return timedelta(seconds=int(timeframe[:-1]) * _TF_SECONDS[unit])


class HistoryCache:
    def __init__(self, port: ExchangePort, store: Store | None) -> None:
        self._port = port
        self._store = store
        self._bars: dict[str, list[Bar]] = {}
        self._loaded: set[str] = set()
        self._funding: dict[str, list[FundingRate]] = {}
        self.fetches = 0  # requests sent, for tests and the cycle summary

    async def bars(
        self, needs: Iterable[tuple[str, str, int]], now: datetime
    ) -> Mapping[str, tuple[Bar, ...]]:
        out: dict[str, tuple[Bar, ...]] = {}
        for symbol, timeframe, count in needs:
            key = history_key(symbol, timeframe)
            await self._refresh(symbol, timeframe, count, now)
            out[key] = tuple(self._bars.get(key, [])[-count:])
        return out

    async def _refresh(self, symbol: str, timeframe: str, count: int, now: datetime) -> None:
        key = history_key(symbol, timeframe)
        step = timeframe_delta(timeframe)
        if key not in self._loaded and self._store is not None:
            self._bars[key] = await self._store.bars(
                symbol, timeframe, since=now - step * (count + 2)
            )
        self._loaded.add(key)
        bars = self._bars.setdefault(key, [])
        last_closed_open = (
            now - step
        )  # the newest bar whose period has ended opens no later than this
        if bars and bars[-1].ts + step > last_closed_open:
            return  # nothing new has closed since the newest known bar
        since = bars[-1].ts + step if bars else now - step * count
        fresh = [
            b for b in await self._fetch(symbol, timeframe, since, now, step) if b.ts + step <= now
        ]
        if not fresh:
            return
        known = {b.ts for b in bars}
        new = [b for b in fresh if b.ts not in known]
        bars.extend(new)
        bars.sort(key=lambda b: b.ts)
        del bars[: max(0, len(bars) - max(count, MAX_FETCH))]
        if self._store is not None and new:
            await self._store.add_bars(symbol, timeframe, new)

    async def _fetch(
        self, symbol: str, timeframe: str, since: datetime, now: datetime, step: timedelta
    ) -> list[Bar]:
        out: list[Bar] = []
        while since + step <= now:
            limit = min(MAX_FETCH, int((now - since) / step) + 1)
            self.fetches += 1
            page = list(await self._port.fetch_ohlcv(symbol, timeframe, since, limit))
            if not page:
                break
            out.extend(page)
            if len(page) < limit:
                break
            since = page[-1].ts + step
        return out

    async def funding(
        self, needs: Iterable[tuple[str, int]], now: datetime
    ) -> Mapping[str, tuple[FundingRate, ...]]:
        out: dict[str, tuple[FundingRate, ...]] = {}
        for symbol, count in needs:
            rates = self._funding.setdefault(symbol, [])
            newest = rates[-1].next_funding_time if rates else None
            # settlements are at most every hour: ask again only when one may have happened
            if newest is None or now - newest >= timedelta(hours=1):
                self.fetches += 1
                fetched = await self._port.fetch_funding_rate_history(symbol, newest, count)
                seen = {r.next_funding_time for r in rates}
                rates.extend(r for r in fetched if r.next_funding_time not in seen)
                rates.sort(key=lambda r: r.next_funding_time or now)
                del rates[: max(0, len(rates) - count)]
            out[symbol] = tuple(rates[-count:])
        return out
