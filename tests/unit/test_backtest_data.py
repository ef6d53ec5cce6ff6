"""What a backtest reports about its data: missing bars and funding settlements, a missing file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.backtest.data import bases_of, check_folder, find_gaps
from bot.errors import ConfigError
from bot.settings import parse_config

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _write(path: Path, header: str, times: list[datetime], value: str) -> None:
    lines = [header, *(f"{t:%Y-%m-%dT%H:%M:%SZ},{value}" for t in times)]
    path.write_text("\n".join(lines) + "\n")


def test_missing_hours_and_settlements_are_counted_in_runs(tmp_path: Path) -> None:
    hours = [T0 + timedelta(hours=i) for i in range(48) if i not in (10, 11, 30)]
    bar = "1,1,1,1,1"
    _write(tmp_path / "BTCUSDT_perp_1h.csv", "timestamp,open,high,low,close,volume", hours, bar)
    _write(tmp_path / "BTCUSDT_spot_1h.csv", "timestamp,open,high,low,close,volume", hours, bar)
    _write(tmp_path / "BTCUSDT_mark_1h.csv", "timestamp,mark_close", hours, "1")
    settlements = [T0 + timedelta(hours=8 * i) for i in range(6) if i != 3]
    _write(tmp_path / "BTCUSDT_funding.csv", "timestamp,funding_rate", settlements, "0.0001")
    gaps = find_gaps(tmp_path, ["BTC"], T0 + timedelta(hours=1), T0 + timedelta(hours=48))
    assert gaps.as_json() == {
        "BTCUSDT_funding": 1,
        "BTCUSDT_mark_1h": 3,
        "BTCUSDT_perp_1h": 3,
        "BTCUSDT_spot_1h": 3,
    }
    perp = next(line for line in gaps.lines() if line.startswith("BTCUSDT_perp_1h"))
    assert perp == "BTCUSDT_perp_1h: 3 missing, from 2024-01-01 10:00 (+2), 2024-01-02 06:00 (+1)"
    assert "2024-01-02 00:00 (+1)" in next(x for x in gaps.lines() if "funding" in x)
    # a backtest counts on the times its replay read: the same runs, the files not read again
    from bot.sim.replay import ReplayFeed

    read = find_gaps(
        tmp_path, ["BTC"], T0 + timedelta(hours=1), T0 + timedelta(hours=48),
        feed=ReplayFeed(tmp_path),
    )  # fmt: skip
    assert read.runs == gaps.runs
    assert read.lines() == gaps.lines()


def test_a_coin_without_its_perp_file_is_refused_with_the_remedy(tmp_path: Path) -> None:
    config = parse_config(
        '[paper]\nwallet = { USDT = 1, SOL = 5 }\n[[hedges]]\nname = "sol"\nspot_asset = "SOL"\n'
        'perp = "SOL/USDT:USDT"\n'
    )
    assert bases_of(config) == ["SOL"]
    with pytest.raises(ConfigError, match=r"has no SOLUSDT_perp_1h\.csv .*history fetch"):
        check_folder(tmp_path, bases_of(config))


def test_a_damaged_value_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    """A row with a time but a value that is no number (read lazily): the feed names it when it
    first converts it, rather than ending the backtest with a bare decimal error."""
    from bot.sim.replay import ReplayFeed

    hours = [T0 + timedelta(hours=i) for i in range(4)]
    _write(
        tmp_path / "BTCUSDT_perp_1h.csv", "timestamp,open,high,low,close,volume", hours, "1,1,1,1,1"
    )
    _write(tmp_path / "BTCUSDT_funding.csv", "timestamp,funding_rate", hours[:1], "0.0001x")
    feed = ReplayFeed(tmp_path)
    with pytest.raises(ConfigError, match=r"BTCUSDT_funding\.csv line 2: not a number: '0\.0001x'"):
        feed.prices(T0 + timedelta(hours=2))
    _write(tmp_path / "BTCUSDT_spot_1h.csv", "timestamp,open,high,low,close,volume", hours, "1,1")
    with pytest.raises(ConfigError, match=r"BTCUSDT_spot_1h\.csv line 2: 5 values expected"):
        ReplayFeed(tmp_path).prices(T0 + timedelta(hours=2))


def test_funding_gaps_are_counted_on_each_perps_own_grid(tmp_path: Path) -> None:
    """A 4-hourly funding file: its spacing is the perp's interval, and a missing 4-hourly
    settlement is reported (the 8-hourly grid saw neither 04:00 nor 12:00)."""
    from bot.backtest.data import funding_minutes
    from bot.sim.replay import ReplayFeed

    hours = [T0 + timedelta(hours=i) for i in range(24)]
    _write(
        tmp_path / "BTCUSDT_perp_1h.csv", "timestamp,open,high,low,close,volume", hours, "1,1,1,1,1"
    )
    settlements = [T0 + timedelta(hours=4 * i) for i in range(6) if i != 3]  # 12:00 missing
    _write(tmp_path / "BTCUSDT_funding.csv", "timestamp,funding_rate", settlements, "0.0001")
    minutes = funding_minutes(ReplayFeed(tmp_path), ["BTC"])
    assert minutes == {"BTC": 240}
    gaps = find_gaps(
        tmp_path, ["BTC"], T0 + timedelta(hours=1), T0 + timedelta(hours=24), funding=minutes
    )
    assert "BTCUSDT_funding: 1 missing, from 2024-01-01 12:00 (+1)" in gaps.lines()
    two_hourly = [T0 + timedelta(hours=2 * i) for i in range(6)]
    _write(tmp_path / "BTCUSDT_funding.csv", "timestamp,funding_rate", two_hourly, "0.0001")
    with pytest.raises(ConfigError, match=r"BTCUSDT_funding\.csv settles every 120 minutes"):
        funding_minutes(ReplayFeed(tmp_path), ["BTC"])
