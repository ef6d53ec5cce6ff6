from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from bot.sim.bars import aggregate, floor_time, parse_timeframe, settlements_between
from bot.sim.feeds import FeedRangeError, PriceFeed, ReplayFeed, SyntheticFeed, base_of

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def feed(**kw: object) -> SyntheticFeed:
    args: dict = {"seed": 11, "origin": T0}
    args.update(kw)
    return SyntheticFeed({"BTC": Decimal(60000), "ETH": Decimal(3000)}, **args)


# ---- synthetic ---------------------------------------------------------------------------------


def test_synthetic_is_a_price_feed_and_starts_at_the_given_prices() -> None:
    f = feed(basis_bps=0, basis_noise_bps=0)
    assert isinstance(f, PriceFeed)
    p = f.prices(T0)
    assert p["BTC"].spot == Decimal("60000.00") and p["ETH"].spot == Decimal("3000.00")
    assert p["BTC"].mark == p["BTC"].perp == p["BTC"].spot


def test_synthetic_same_seed_same_prices_whatever_the_query_order() -> None:
    times = [T0 + timedelta(minutes=m) for m in (-5000, 17, 3000, 90_000, -1, 1024, -1025)]
    a, b = feed(), feed()
    forward = [a.prices(t) for t in times]
    backward = [b.prices(t) for t in reversed(times)][::-1]
    assert forward == backward
    assert feed(seed=12).prices(times[3]) != forward[3]


def test_synthetic_prices_are_decimal_on_the_tick_and_positive() -> None:
    f = feed(tick={"BTC": Decimal("0.1"), "ETH": Decimal("0.01")})
    for minutes in range(0, 10_000, 997):
        p = f.prices(T0 + timedelta(minutes=minutes))
        for point in p.values():
            for value in (point.spot, point.perp, point.mark):
                assert isinstance(value, Decimal) and value > 0
        assert p["BTC"].spot == p["BTC"].spot.quantize(Decimal("0.1"))


def test_synthetic_price_is_constant_within_a_step() -> None:
    f = feed(step=timedelta(minutes=5))
    assert f.prices(T0 + timedelta(minutes=5)) == f.prices(T0 + timedelta(minutes=9, seconds=59))
    assert f.prices(T0 + timedelta(minutes=5)) != f.prices(T0 + timedelta(minutes=10))


@pytest.mark.parametrize("rho", [0.9, 0.0])
def test_synthetic_assets_are_correlated_as_configured(rho: float) -> None:
    f = feed(correlation=rho, jump_prob=0.0)
    bars = {
        b: f.bars(b, "spot", T0, T0 + timedelta(minutes=6000), timedelta(minutes=1))
        for b in ("BTC", "ETH")
    }
    r = {b: np.diff(np.log([float(x.close) for x in bars[b]])) for b in bars}
    measured = np.corrcoef(r["BTC"], r["ETH"])[0, 1]
    assert abs(measured - rho) < 0.08


def test_synthetic_volatility_scales_with_vol_annual() -> None:
    def realised(vol: float) -> float:
        f = feed(vol_annual=vol, jump_prob=0.0)
        closes = [float(b.close) for b in f.bars("BTC", "spot", T0, T0 + timedelta(days=5), HOUR)]
        return float(np.std(np.diff(np.log(closes))) * np.sqrt(24 * 365))

    assert 0.3 < realised(0.5) < 0.7
    assert 1.1 < realised(1.5) < 1.9


def test_synthetic_rejects_a_bad_correlation_matrix() -> None:
    with pytest.raises(ValueError, match="positive definite"):
        feed(correlation=[[1.0, 1.5], [1.5, 1.0]])
    with pytest.raises(ValueError, match="2x2"):
        feed(correlation=[[1.0]])


def test_synthetic_bars_agree_with_prices_and_never_see_the_future() -> None:
    f = feed()
    end = T0 + timedelta(hours=5, minutes=30)
    bars = f.bars("BTC", "perp", T0 - timedelta(hours=3), end, HOUR)
    assert [b.ts for b in bars] == [T0 + k * HOUR for k in range(-3, 6)]  # history before origin
    for bar in bars[:-1]:
        assert bar.close == f.prices(bar.ts + HOUR)["BTC"].perp
        assert bar.open == f.prices(bar.ts)["BTC"].perp
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.volume > 0
    assert bars[-1].close == f.prices(end)["BTC"].perp  # the bar still forming ends at "now"
    later = f.bars("BTC", "perp", T0 - timedelta(hours=3), end + HOUR, HOUR)
    assert later[:-2] == bars[:-1]


def test_synthetic_hourly_bars_aggregate_the_minute_bars() -> None:
    f = feed()
    minutes = f.bars("ETH", "spot", T0, T0 + 2 * HOUR, timedelta(minutes=1))
    hours = f.bars("ETH", "spot", T0, T0 + 2 * HOUR, HOUR)
    assert len(minutes) == 120 and len(hours) == 2
    merged = aggregate(minutes, HOUR)
    assert [(b.ts, b.open, b.high, b.low, b.close) for b in merged] == [
        (b.ts, b.open, b.high, b.low, b.close) for b in hours
    ]
    assert all(
        abs(m.volume - h.volume) < Decimal("0.0001") for m, h in zip(merged, hours, strict=True)
    )


def test_synthetic_funding_is_seeded_small_and_mostly_positive() -> None:
    f = feed(funding_mean=0.0001, funding_vol=0.00005)
    history = f.funding_history("BTC", T0, T0 + timedelta(days=100))
    assert len(history) == 301
    rates = [r for _, r in history]
    assert all(abs(r) < Decimal("0.001") for r in rates)
    assert sum(r > 0 for r in rates) > 0.9 * len(rates)
    assert (
        f.funding_rate("BTC", history[7][0])
        == rates[7]
        == feed(funding_mean=0.0001, funding_vol=0.00005).funding_rate("BTC", history[7][0])
    )
    assert f.prices(history[7][0] + timedelta(hours=3))["BTC"].funding_rate == rates[7]


def test_synthetic_change_times_are_the_step_grid() -> None:
    f = feed(step=timedelta(minutes=15))
    got = f.change_times(T0 + timedelta(minutes=1), T0 + HOUR)
    assert got == [T0 + timedelta(minutes=m) for m in (15, 30, 45, 60)]


# ---- replay ------------------------------------------------------------------------------------


def write(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n")


def iso(hour: int) -> str:
    return (T0 + hour * HOUR).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def history(tmp_path: Path) -> Path:
    bar = "timestamp,open,high,low,close,volume"
    write(
        tmp_path / "BTCUSDT_perp_1h.csv",
        bar,
        [f"{iso(h)},{100 + h},{102 + h},{99 + h},{101 + h},{h + 1}" for h in range(6)],
    )
    # spot hour 2 and 3 missing (maintenance)
    write(
        tmp_path / "BTCUSDT_spot_1h.csv",
        bar,
        [f"{iso(h)},{100 + h},{101 + h},{99 + h},{100.5 + h},10" for h in (0, 1, 4, 5)],
    )
    # mark for hour 1 missing
    write(
        tmp_path / "BTCUSDT_mark_1h.csv",
        "timestamp,mark_close",
        [f"{iso(h)},{101.25 + h}" for h in (0, 2, 3, 4, 5)],
    )
    write(
        tmp_path / "BTCUSDT_funding.csv",
        "timestamp,funding_rate",
        [f"{iso(0)},0.0001", f"{iso(8)},-2.5e-05"],
    )
    write(tmp_path / "ETHUSDT_perp_1h.csv", bar, [f"{iso(h)},10,11,9,{10 + h},1" for h in range(6)])
    return tmp_path


def test_replay_discovers_symbols_and_bases(history: Path) -> None:
    f = ReplayFeed(history)
    assert isinstance(f, PriceFeed)
    assert f.bases == ("BTC", "ETH")
    assert base_of("SOLUSDT") == "SOL"
    assert f.first_time() == T0 + HOUR and f.last_time() == T0 + 6 * HOUR


def test_replay_price_at_a_time_is_the_last_completed_bar(history: Path) -> None:
    f = ReplayFeed(history, ["BTCUSDT"])
    p = f.prices(T0 + timedelta(hours=2, minutes=30))["BTC"]  # bar of 01:00 completed at 02:00
    assert p.perp == Decimal("102")
    assert p.spot == Decimal("101.5")
    assert p.mark == Decimal("102")  # mark missing for 01:00 -> perp close
    assert p.funding_rate == Decimal("0.0001")
    assert f.prices(T0 + 4 * HOUR)["BTC"].mark == Decimal("104.25")


def test_replay_spot_gap_takes_the_last_known_close(history: Path) -> None:
    f = ReplayFeed(history, ["BTCUSDT"])
    assert f.prices(T0 + 3 * HOUR)["BTC"].spot == Decimal("101.5")  # 02:00 bar missing
    assert f.prices(T0 + 4 * HOUR)["BTC"].spot == Decimal("101.5")  # 03:00 bar missing
    assert f.prices(T0 + 5 * HOUR)["BTC"].spot == Decimal("104.5")


def test_replay_outside_the_data_raises(history: Path) -> None:
    f = ReplayFeed(history, ["BTCUSDT"])
    with pytest.raises(FeedRangeError):
        f.prices(T0 + timedelta(minutes=59))
    with pytest.raises(FeedRangeError):
        f.prices(T0 + 7 * HOUR)


def test_replay_bars_funding_and_change_times(history: Path) -> None:
    f = ReplayFeed(history, ["BTCUSDT"])
    bars = f.bars("BTC", "perp", T0, T0 + timedelta(hours=5, minutes=10), 2 * HOUR)
    assert [(b.ts, b.open, b.high, b.low, b.close, b.volume) for b in bars] == [
        (T0, Decimal(100), Decimal(103), Decimal(99), Decimal(102), Decimal(3)),
        (T0 + 2 * HOUR, Decimal(102), Decimal(105), Decimal(101), Decimal(104), Decimal(7)),
        (T0 + 4 * HOUR, Decimal(104), Decimal(106), Decimal(103), Decimal(105), Decimal(5)),
    ]  # the last one is still forming: only the 04:00 hour is complete at 05:10
    spot = f.bars("BTC", "spot", T0 + 2 * HOUR, T0 + 4 * HOUR, HOUR)
    assert [(b.close, b.volume) for b in spot] == [(Decimal("101.5"), 0), (Decimal("101.5"), 0)]
    assert f.funding_history("BTC", T0, T0 + 8 * HOUR) == [
        (T0, Decimal("0.0001")),
        (T0 + 8 * HOUR, Decimal("-0.000025")),
    ]
    assert f.funding_rate("BTC", T0 + 16 * HOUR) == Decimal("-0.000025")
    assert f.change_times(T0 + HOUR, T0 + 3 * HOUR) == [T0 + 2 * HOUR, T0 + 3 * HOUR]
    with pytest.raises(ValueError):
        f.bars("BTC", "perp", T0, T0 + HOUR, timedelta(minutes=30))


# ---- time grid ---------------------------------------------------------------------------------


def test_time_grid_helpers() -> None:
    assert parse_timeframe("4h") == 4 * HOUR and parse_timeframe("1w") == timedelta(days=7)
    with pytest.raises(ValueError):
        parse_timeframe("1x")
    monday = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    assert floor_time(monday + timedelta(days=3, hours=5), timedelta(weeks=1)) == monday
    assert settlements_between(T0, T0 + timedelta(hours=16)) == [T0 + 8 * HOUR, T0 + 16 * HOUR]
