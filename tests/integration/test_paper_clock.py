"""One clock in paper mode: the embedded synthetic venue keeps wall-clock time, so log lines and
database rows never go back in time between start-up and the first cycle."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from bot.app import MAX_CATCH_UP, catch_up_with_wall_clock
from bot.sim.markets import VenueConfig
from bot.sim.server import CLOCK_TICK_SECONDS
from bot.sim.synthetic import SyntheticFeed
from bot.sim.venue import Venue

ROOT = Path(__file__).resolve().parents[2]


def _venue(start: datetime) -> Venue:
    feed = SyntheticFeed({"BTC": 60000, "ETH": 3000}, seed=7, origin=start)
    return Venue(feed, start, VenueConfig.for_bases(["BTC", "ETH"]))


def test_a_venue_behind_the_wall_clock_is_walked_to_now() -> None:
    start = (datetime.now(UTC) - timedelta(minutes=10)).replace(second=0, microsecond=0)
    venue = _venue(start)
    catch_up_with_wall_clock(venue)
    assert abs((datetime.now(UTC) - venue.now).total_seconds()) < 5


def test_a_venue_resumed_after_a_long_absence_catches_up_a_week_at_most() -> None:
    start = (datetime.now(UTC) - timedelta(days=30)).replace(second=0, microsecond=0)
    venue = _venue(start)
    catch_up_with_wall_clock(venue)
    assert venue.now == start + MAX_CATCH_UP


def test_paper_run_log_lines_never_go_back_in_time(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEDGEBOT_LOG_LEVEL": "info"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--max-cycles", "2", "--interval", "0.2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stamps = [
        datetime.fromisoformat(line.split()[0].replace("Z", "+00:00"))
        for line in (proc.stdout + proc.stderr).splitlines()
        if line[:4].isdigit() and "T" in line[:12]
    ]
    assert len(stamps) >= 4
    # the simulated clock moves in ticks (CLOCK_TICK_SECONDS), so it may trail the wall clock of
    # the start-up lines by up to a tick; before the fix it trailed by up to a minute
    tick = timedelta(seconds=CLOCK_TICK_SECONDS)
    back = [(a, b) for a, b in pairwise(stamps) if b < a - tick]
    assert back == [], "a log line is stamped well before the one printed above it"
