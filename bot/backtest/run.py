"""One backtest: recorded history replayed through the live engine.

The same Engine as the daemon (strategies, planner, risk guards, stop-losses, reconcile, ledger)
runs against the venue model through the in-process port, on a simulated clock that steps one bar
at a time. The venue fills market orders at each market's own last price (the perp's, the spot's)
with its fees and slippage, settles funding on the position held on each perp's grid (as its
funding file is spaced: 8 h, 4 h or 1 h) and liquidates an account below maintenance margin. The
starting account is the configuration's [paper] wallet. Strategy windows read the bars before the
start, when the folder has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bot.backtest.data import HOUR, Gaps, bases_of, check_folder, find_gaps, funding_minutes
from bot.backtest.memory_store import MemoryStore
from bot.engine import Engine
from bot.errors import ConfigError
from bot.exchange.inprocess import InProcessExchange
from bot.review.report import build, load
from bot.review.report_calc import Attribution
from bot.settings import FileConfig
from bot.sim.markets import VenueConfig
from bot.sim.replay import ReplayFeed
from bot.sim.venue import Venue
from bot.store.migrate import upgrade
from bot.store.repo import Store

Progress = Callable[[int, int], None]


@dataclass
class BacktestResult:
    name: str
    start: datetime
    end: datetime
    cycles: int
    bases: list[str]
    gaps: Gaps
    liquidations: int
    attribution: Attribution | None
    report: dict[str, Any] | None = None
    outcomes: dict[str, int] = field(default_factory=dict)


def _ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + HOUR


def period(
    feed: ReplayFeed, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    first, last = feed.first_time(), feed.last_time()
    lo = _ceil_hour(max(start or first, first))
    hi = min(end or last, last)
    if lo >= hi:
        raise ConfigError(
            [f"--from/--to: no data between {lo:%Y-%m-%d %H:%M} and {hi:%Y-%m-%d %H:%M}; "
             f"the folder covers {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"]
        )  # fmt: skip
    return lo, hi


async def run_backtest(
    data: Path,
    config: FileConfig,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    name: str = "backtest",
    progress: Progress | None = None,
    db_url: str | None = None,
) -> BacktestResult:
    """Without ``db_url`` the run's records live in memory (``MemoryStore``) and are dropped."""
    quote = config.bot.quote
    bases = bases_of(config)
    check_folder(data, bases, quote)
    feed = ReplayFeed(data, [f"{b}{quote}" for b in bases])
    start, end = period(feed, start, end)
    minutes = funding_minutes(feed, bases, quote)
    venue_config = VenueConfig.for_bases(
        bases, wallet=config.paper.wallet, funding_minutes=minutes, day_stats=False
    )
    venue = Venue(feed, start, venue_config)
    clock = lambda: venue.now  # noqa: E731 - the simulated clock stamps every record
    if db_url:  # migrated, not create_schema: the review commands need its Alembic revision
        await upgrade(db_url)
        store: Store | MemoryStore = Store.from_url(db_url, clock=clock)
    else:
        store = MemoryStore(clock=clock)
        await store.create_schema()
    engine = Engine(
        port=InProcessExchange(venue), store=cast(Store, store), config=config, clock=clock,
        tag="bt",
    )  # fmt: skip
    outcomes: dict[str, int] = {}
    try:
        await engine.start()
        steps = int((end - start) / HOUR) + 1
        for i in range(steps):
            venue.advance_to(start + i * HOUR)
            outcome = await engine.run_cycle()
            outcomes[outcome.outcome] = outcomes.get(outcome.outcome, 0) + 1
            if progress is not None:
                progress(i + 1, steps)
        att = await load(cast(Store, store), quote=quote)
    finally:
        await store.close()
    gaps = find_gaps(data, bases, start, end, quote, minutes, feed)  # the times the replay read
    result = BacktestResult(
        name, start, start + (steps - 1) * HOUR, steps, bases, gaps, len(venue.liquidations), att,
        None, outcomes,
    )  # fmt: skip
    if att is not None:
        result.report = build(att, extra(result))
    return result


def extra(result: BacktestResult) -> dict[str, Any]:
    """The backtest's own figures in the report: bars replayed, data gaps, liquidations."""
    bars = {"bars": result.cycles}
    hedges = result.attribution.hedges if result.attribution else {}
    return {
        "backtest": {
            "name": result.name,
            "bars": result.cycles,
            "asset_bars": result.cycles * len(result.bases),
            "assets": result.bases,
            "liquidations": result.liquidations,
            "cycles": result.outcomes,
            "data_gaps": result.gaps.as_json(),
        },
        "hedges": {h: dict(bars) for h in hedges},
        "total": dict(bars),
    }


def parse_day(text: str) -> datetime:
    """A UTC date or time: 2022-05-01 or 2022-05-01T12:00."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
