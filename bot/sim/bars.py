"""Time grid and OHLCV helpers shared by the feeds and the venue: timeframe parsing, alignment of
times to a grid, and aggregation of fine bars into coarser ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from bot.domain import Bar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Weekly bars start on Monday like Bybit's; the epoch was a Thursday.
WEEK_OFFSET = timedelta(days=4)
FUNDING_INTERVAL = timedelta(hours=8)
_WEEK, _NO_OFFSET = timedelta(weeks=1), timedelta(0)

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_timeframe(timeframe: str) -> timedelta:
    """'1m', '15m', '1h', '4h', '1d', '1w' -> timedelta (ccxt's spelling)."""
    unit = timeframe[-1:]
    if unit not in _UNITS or not timeframe[:-1].isdigit() or int(timeframe[:-1]) <= 0:
        raise ValueError(f"unsupported timeframe {timeframe!r}")
    return timedelta(seconds=int(timeframe[:-1]) * _UNITS[unit])


def grid_offset(step: timedelta) -> timedelta:
    return WEEK_OFFSET if step == _WEEK else _NO_OFFSET


def floor_time(at: datetime, step: timedelta) -> datetime:
    """The grid point at or before ``at`` (grid anchored at the epoch, weeks on Mondays)."""
    offset = grid_offset(step)
    return at - (at - EPOCH - offset) % step


def ceil_time(at: datetime, step: timedelta) -> datetime:
    floored = floor_time(at, step)
    return floored if floored == at else floored + step


def to_ms(at: datetime) -> int:
    return (at - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int | str) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


def next_settlement(after: datetime, interval: timedelta = FUNDING_INTERVAL) -> datetime:
    """The first funding settlement strictly after ``after`` (by default 00:00, 08:00, 16:00)."""
    return floor_time(after, interval) + interval


def settlements_between(
    after: datetime, until: datetime, interval: timedelta = FUNDING_INTERVAL
) -> list[datetime]:
    """Funding settlement times in (after, until] on the ``interval`` grid."""
    out = []
    t = next_settlement(after, interval)
    while t <= until:
        out.append(t)
        t += interval
    return out


def check_timeframe(timeframe: timedelta, resolution: timedelta) -> None:
    if timeframe < resolution or timeframe % resolution:
        raise ValueError(
            f"timeframe {timeframe} is not a multiple of the feed resolution {resolution}"
        )


def aggregate(bars: Iterable[Bar], timeframe: timedelta) -> list[Bar]:
    """Merge fine bars (oldest first) into ``timeframe`` bars aligned on the grid. A trailing group
    with fewer fine bars is kept: it is the bar still forming."""
    out: list[Bar] = []
    for bar in bars:
        start = floor_time(bar.ts, timeframe)
        last = out[-1] if out else None
        if last is not None and last.ts == start:
            out[-1] = Bar(
                ts=start,
                open=last.open,
                high=max(last.high, bar.high),
                low=min(last.low, bar.low),
                close=bar.close,
                volume=last.volume + bar.volume,
            )
        else:
            out.append(
                Bar(start, bar.open, bar.high, bar.low, bar.close, bar.volume)
                if start != bar.ts
                else bar
            )
    return out
