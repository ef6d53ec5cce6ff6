"""Replay of recorded history files, laid out as in ``../shared/data/market``:

    <SYMBOL>_perp_<tf>.csv   timestamp,open,high,low,close,volume   (bar open time, ISO-8601 UTC)
    <SYMBOL>_spot_<tf>.csv   timestamp,open,high,low,close,volume   (optional; hours may be missing)
    <SYMBOL>_mark_<tf>.csv   timestamp,mark_close                   (optional)
    <SYMBOL>_funding.csv     timestamp,funding_rate                 (settlement time; optional)

SYMBOL is like BTCUSDT (base BTC). The perp file is the master timeline. A missing spot bar takes
the last known spot bar before it (the perp bar when there is none); a missing mark takes the perp
close. Files are read on first use of a base, with the csv module; values stay text until asked
for, then become Decimal. A damaged row (no time, too few values, a value that is no number) is
refused with a ``ConfigError`` naming the file and line (a bad value only when it is first read).
"""

from __future__ import annotations

import csv
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from bot.domain import Bar
from bot.errors import ConfigError
from bot.sim.bars import (
    EPOCH,
    FUNDING_INTERVAL,
    aggregate,
    check_timeframe,
    floor_time,
    parse_timeframe,
)
from bot.sim.feed_base import BarKind, FeedRangeError, PricePoint

QUOTES = ("USDT", "USDC", "USD")
ZERO = Decimal(0)


def base_of(symbol: str) -> str:
    for quote in QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)]
    raise ValueError(f"cannot tell the base coin of {symbol!r}")


def _seconds(text: str) -> int:
    return int((datetime.fromisoformat(text) - EPOCH).total_seconds())


def damaged(path: Path, line: int, problem: str) -> ConfigError:
    """A history file that cannot be read: one line naming the file, the line and the remedy."""
    remedy = "fix or re-fetch it with `hedgebot history fetch`"
    return ConfigError([f"--data: {path} line {line}: {problem} ({remedy})"])


def _rows(path: Path, width: int) -> list[tuple[int, tuple[str, ...]]]:
    """(epoch seconds, the other columns) of each row; a row without a time or with fewer than
    ``width`` values is refused. The values stay text: ``_first_bad_number`` checks them."""
    pairs = []
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)  # header
        for r in reader:
            if not r:
                continue
            try:
                t = _seconds(r[0])
            except ValueError:
                raise damaged(path, reader.line_num, f"not a time: {r[0][:40]!r}") from None
            if len(r) <= width:
                raise damaged(path, reader.line_num, f"{width} values expected after the time")
            pairs.append((t, tuple(r[1:])))
    return pairs


def _first_bad_number(path: Path, width: int) -> ConfigError | None:
    if not path.exists():
        return None
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for r in reader:
            for value in r[1 : width + 1]:
                try:
                    Decimal(value)
                except ArithmeticError:
                    return damaged(path, reader.line_num, f"not a number: {value[:40]!r}")
    return None


@dataclass(slots=True)
class _Table:
    """Rows sorted by time: ``times`` in epoch seconds, ``rows`` the remaining columns as text."""

    times: list[int] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path, width: int) -> _Table:
        table = cls()
        if not path.exists():
            return table
        pairs = sorted(_rows(path, width))
        table.times = [t for t, _ in pairs]
        table.rows = [row for _, row in pairs]
        return table

    def at_or_before(self, t: int) -> int | None:
        i = bisect_right(self.times, t) - 1
        return i if i >= 0 else None

    def exact(self, t: int) -> int | None:
        i = bisect_left(self.times, t)
        return i if i < len(self.times) and self.times[i] == t else None


@dataclass(slots=True)
class _Series:
    perp: _Table
    spot: _Table
    mark: _Table
    funding: _Table


class ReplayFeed:
    def __init__(
        self, directory: Path | str, symbols: Sequence[str] | None = None, timeframe: str = "1h"
    ) -> None:
        self._dir = Path(directory)
        self._tf = timeframe
        self._res = parse_timeframe(timeframe)
        if symbols is None:
            suffix = f"_perp_{timeframe}.csv"
            symbols = sorted(p.name[: -len(suffix)] for p in self._dir.glob(f"*{suffix}"))
        if not symbols:
            raise FileNotFoundError(f"no *_perp_{timeframe}.csv history files in {self._dir}")
        self._symbols = {base_of(s): s for s in symbols}
        self._series: dict[str, _Series] = {}
        self._rates: dict[tuple[str, datetime], Decimal] = {}
        self._intervals: dict[str, timedelta] = {}

    @property
    def bases(self) -> tuple[str, ...]:
        return tuple(self._symbols)

    @property
    def resolution(self) -> timedelta:
        return self._res

    def _load(self, base: str) -> _Series:
        series = self._series.get(base)
        if series is None:
            sym, tf = self._symbols[base], self._tf
            path = self._dir / f"{sym}_perp_{tf}.csv"
            if not path.exists():
                raise FileNotFoundError(f"missing history file {path}")
            series = _Series(*(_Table.read(p, w) for p, w in self._files(base)))
            self._series[base] = series
        return series

    def _files(self, base: str) -> list[tuple[Path, int]]:
        """The files of ``base`` as ``_Series`` holds them, with the values each row has."""
        stem, tf = self._dir / self._symbols[base], self._tf
        return [
            (Path(f"{stem}_perp_{tf}.csv"), 5),
            (Path(f"{stem}_spot_{tf}.csv"), 5),
            (Path(f"{stem}_mark_{tf}.csv"), 1),
            (Path(f"{stem}_funding.csv"), 1),
        ]

    def _damaged(self, base: str) -> ConfigError | None:
        """Values are converted when first asked for; a bad one is looked up only then."""
        return next(filter(None, (_first_bad_number(p, w) for p, w in self._files(base))), None)

    def first_time(self) -> datetime:
        """The first time every base has a price (the close of its first perp bar)."""
        step = int(self._res.total_seconds())
        return max(EPOCH + timedelta(seconds=self._times(b)[0] + step) for b in self.bases)

    def last_time(self) -> datetime:
        step = int(self._res.total_seconds())
        return min(EPOCH + timedelta(seconds=self._times(b)[-1] + step) for b in self.bases)

    def file_times(self, base: str) -> dict[str, list[int]]:
        """The epoch seconds of the rows of ``base``'s files, by kind (perp, spot, mark,
        funding), as read: a backtest's gap report counts on them without reading them again."""
        s = self._load(base)
        return {"perp": s.perp.times, "spot": s.spot.times, "mark": s.mark.times,
                "funding": s.funding.times}  # fmt: skip

    def _times(self, base: str) -> list[int]:
        times = self._load(base).perp.times
        if not times:
            raise FeedRangeError(f"no {base} perp bars")
        return times

    # ---- PriceFeed ----------------------------------------------------------------------------
    def prices(self, at: datetime) -> Mapping[str, PricePoint]:
        return {base: self._point(base, at) for base in self.bases}

    def _bad_value(self, base: str, exc: ArithmeticError) -> Exception:
        return self._damaged(base) or exc

    def _point(self, base: str, at: datetime) -> PricePoint:
        series = self._load(base)
        step = int(self._res.total_seconds())
        last_complete = int((at - EPOCH).total_seconds()) - step
        i = series.perp.at_or_before(last_complete)
        times = series.perp.times
        # A gap inside the data carries the last bar forward; past the last bar there is no price.
        if i is None or (i == len(times) - 1 and last_complete - times[i] >= step):
            raise FeedRangeError(f"no {base} price at {at.isoformat()}")
        t = times[i]
        perp = series.perp.rows[i][3]
        j = series.spot.at_or_before(t)  # as _bar: a gap carries the last close
        k = series.mark.exact(t)
        try:
            return PricePoint(
                spot=Decimal(perp if j is None else series.spot.rows[j][3]),
                perp=Decimal(perp),
                mark=Decimal(perp if k is None else series.mark.rows[k][0]),
                funding_rate=self.funding_rate(base, floor_time(at, self.funding_interval(base))),
            )
        except ArithmeticError as exc:
            raise self._bad_value(base, exc) from None

    def _bar(self, series: _Series, kind: BarKind, t: int) -> Bar:
        """The bar of ``kind`` opening at perp time ``t``, with the documented fallbacks."""
        perp_row = series.perp.rows[series.perp.exact(t)]  # type: ignore[index]
        ts = EPOCH + timedelta(seconds=t)
        if kind == "mark":
            j = series.mark.exact(t)
            close = Decimal(perp_row[3]) if j is None else Decimal(series.mark.rows[j][0])
            return Bar(ts, close, close, close, close, ZERO)
        row = perp_row
        if kind == "spot":
            j = series.spot.at_or_before(t)
            if j is not None:
                row = series.spot.rows[j]
                if series.spot.times[j] != t:  # a gap: carry the last known close, no volume
                    close = Decimal(row[3])
                    return Bar(ts, close, close, close, close, ZERO)
        o, h, low, c, v = (Decimal(x) for x in row[:5])
        return Bar(ts, o, h, low, c, v)

    def funding_rate(self, base: str, settlement: datetime) -> Decimal:
        key = (base, settlement)  # asked for every cycle by the tickers' forecasts: kept
        rate = self._rates.get(key)
        if rate is None:
            table = self._load(base).funding
            i = table.at_or_before(int((settlement - EPOCH).total_seconds()))
            try:
                rate = self._rates[key] = Decimal(table.rows[i][0]) if i is not None else ZERO
            except ArithmeticError as exc:
                raise self._bad_value(base, exc) from None
        return rate

    def funding_interval(self, base: str) -> timedelta:
        """The spacing of the base's settlements: the most common one in its funding file (gaps
        and a venue's change of interval aside), 8 h with fewer than two settlements."""
        interval = self._intervals.get(base)
        if interval is None:
            times = self._load(base).funding.times
            steps = Counter(b - a for a, b in pairwise(times) if b > a)
            seconds = steps.most_common(1)[0][0] if steps else None
            interval = FUNDING_INTERVAL if seconds is None else timedelta(seconds=seconds)
            self._intervals[base] = interval
        return interval

    def change_times(self, after: datetime, until: datetime) -> list[datetime]:
        step = int(self._res.total_seconds())
        lo, hi = (int((x - EPOCH).total_seconds()) - step for x in (after, until))
        times: set[int] = set()
        for base in self.bases:
            perp = self._times(base)
            times.update(perp[bisect_right(perp, lo) : bisect_right(perp, hi)])
        return [EPOCH + timedelta(seconds=t + step) for t in sorted(times)]

    def bars(
        self, base: str, kind: BarKind, start: datetime, end: datetime, timeframe: timedelta
    ) -> list[Bar]:
        check_timeframe(timeframe, self._res)
        series = self._load(base)
        step = int(self._res.total_seconds())
        first = floor_time(start, timeframe)
        lo = int((first - EPOCH).total_seconds())
        hi = int((end - EPOCH).total_seconds()) - step  # base bars must be complete by ``end``
        times = series.perp.times
        try:
            fine = [
                self._bar(series, kind, t)
                for t in times[bisect_left(times, lo) : bisect_right(times, hi)]
            ]
        except ArithmeticError as exc:
            raise self._bad_value(base, exc) from None
        return [bar for bar in aggregate(fine, timeframe) if bar.ts >= start]

    def funding_history(
        self, base: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, Decimal]]:
        table = self._load(base).funding
        lo, hi = (int((x - EPOCH).total_seconds()) for x in (start, end))
        a, b = bisect_left(table.times, lo), bisect_right(table.times, hi)
        try:
            return [
                (EPOCH + timedelta(seconds=t), Decimal(row[0]))
                for t, row in zip(table.times[a:b], table.rows[a:b], strict=True)
            ]
        except ArithmeticError as exc:
            raise self._bad_value(base, exc) from None
