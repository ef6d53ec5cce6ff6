"""What a backtest reads from a history folder (laid out as ``bot.sim.replay`` documents), and
what is missing from it: gaps are reported, never silently filled."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.settings import FileConfig
from bot.sim.bars import EPOCH
from bot.sim.markets import FUNDING_MINUTES
from bot.sim.replay import ReplayFeed, damaged

HOUR = timedelta(hours=1)


def _seconds(t: datetime) -> int:
    return int((t - EPOCH).total_seconds())


def _datetime(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def bases_of(config: FileConfig) -> list[str]:
    """Every coin the configuration trades or values: hedged assets, perps' bases, wallet coins."""
    out: set[str] = set()
    for h in config.hedges:
        if h.spot_asset:
            out.add(h.spot_asset)
        if h.perp:
            out.add(h.perp.split("/")[0])
        out.update(str(a) for a in h.params.get("assets", ()) or ())
        out.update(str(p).split("/")[0] for p in h.params.get("perps", ()) or ())
    out.update(c for c in config.paper.wallet if c != config.bot.quote)
    return sorted(out)


def _times(path: Path) -> list[datetime]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        rows = csv.reader(fh)
        next(rows, None)
        try:
            return [datetime.fromisoformat(r[0]) for r in rows if r]
        except ValueError:
            raise damaged(path, rows.line_num, "not a time") from None


@dataclass
class Gaps:
    """Missing data in the backtest period, per file kind, as (first missing, count) runs."""

    runs: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)

    def add(self, name: str, times: Iterable[datetime], start: datetime, end: datetime,
            step: timedelta) -> None:  # fmt: skip
        self._add(name, sorted(t for t in times if start <= t < end), start, end, step, None)

    def add_seconds(self, name: str, times: Iterable[int], start: datetime, end: datetime,
                    step: timedelta) -> None:  # fmt: skip
        """``add`` for times in epoch seconds: a replay's, parsed once (a year of ten coins is
        some 350,000 rows)."""
        lo, hi = _seconds(start), _seconds(end)
        inside = sorted(t for t in times if lo <= t < hi)
        self._add(name, inside, lo, hi, int(step.total_seconds()), _datetime)

    def _add(self, name: str, inside: list[Any], start: Any, end: Any, step: Any,
             as_time: Callable[[Any], datetime] | None) -> None:  # fmt: skip
        expected = start
        runs: list[tuple[datetime, int]] = []
        for t in [*inside, end]:
            missing = int((t - expected) / step)
            if missing > 0:
                runs.append((expected if as_time is None else as_time(expected), missing))
            expected = max(expected, t + step)
        if runs:
            self.runs[name] = runs

    def lines(self) -> list[str]:
        out = []
        for name, runs in sorted(self.runs.items()):
            total = sum(n for _, n in runs)
            first = ", ".join(f"{t:%Y-%m-%d %H:%M} (+{n})" for t, n in runs[:3])
            more = f" and {len(runs) - 3} more gaps" if len(runs) > 3 else ""
            out.append(f"{name}: {total} missing, from {first}{more}")
        return out

    def as_json(self) -> dict[str, int]:
        return {name: sum(n for _, n in runs) for name, runs in sorted(self.runs.items())}


def check_folder(directory: Path, bases: Iterable[str], quote: str = "USDT") -> None:
    """Refuses a folder without the perp file of a coin the configuration needs."""
    missing = [
        f"{b}{quote}_perp_1h.csv"
        for b in bases
        if not (directory / f"{b}{quote}_perp_1h.csv").exists()
    ]
    if missing:
        raise ConfigError(
            [f"--data: {directory} has no {m} (fetch it with `hedgebot history fetch`)"
             for m in missing]
        )  # fmt: skip


def funding_minutes(feed: ReplayFeed, bases: Iterable[str], quote: str = "USDT") -> dict[str, int]:
    """Each perp's settlement interval, as its funding file is spaced (Bybit lists 8 h for most
    perps, 4 h or 1 h for some); a spacing the venue model does not know is refused."""
    out = {}
    for b in bases:
        minutes = feed.funding_interval(b) // timedelta(minutes=1)
        if minutes not in FUNDING_MINUTES:
            raise ConfigError(
                [f"--data: {b}{quote}_funding.csv settles every {minutes} minutes; the backtest "
                 f"knows {', '.join(map(str, FUNDING_MINUTES))}"]
            )  # fmt: skip
        out[b] = minutes
    return out


def find_gaps(
    directory: Path,
    bases: Iterable[str],
    start: datetime,
    end: datetime,
    quote: str = "USDT",
    funding: Mapping[str, int] | None = None,
    feed: ReplayFeed | None = None,
) -> Gaps:
    """Hourly bars missing in [start - 1 h, end) (a price at t is the close of the bar opened at
    t - 1 h), and funding settlements missing from each perp's grid (``funding``: minutes, 8 h
    by default). ``feed``: the replay of that folder, whose parsed times are used (the files are
    not read again)."""
    gaps = Gaps()
    first_bar = start - HOUR
    for b in bases:
        read = feed.file_times(b) if feed is not None else None
        step = timedelta(minutes=(funding or {}).get(b, 480))
        settle = start + (-(start - datetime(1970, 1, 1, tzinfo=start.tzinfo)) % step)
        for kind in ("perp", "spot", "mark", "funding"):
            name = f"{b}{quote}_{kind}" + ("" if kind == "funding" else "_1h")
            lo, every = (settle, step) if kind == "funding" else (first_bar, HOUR)
            if read is not None:
                gaps.add_seconds(name, read[kind], lo, end, every)
            else:
                gaps.add(name, _times(directory / f"{name}.csv"), lo, end, every)
    return gaps
