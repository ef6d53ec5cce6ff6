"""Attribution arithmetic on hand-made marks: shared perps, event order at one timestamp,
effectiveness and drawdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from bot.domain import FundingPayment, Side
from bot.review.report import effectiveness, max_drawdown
from bot.review.report_calc import attribute, cycle_of
from bot.store.records import ACCOUNT, MarkRecord, StoredFill

T0 = datetime(2024, 1, 1, tzinfo=UTC)
BTC = "BTC/USDT:USDT"


def _mark(hours: int, hedge: str, asset: str, qty: str, spot: str, share: str, pos: str,
          mark: str, target: str) -> MarkRecord:  # fmt: skip
    return MarkRecord(
        T0 + timedelta(hours=hours), hours + 1, hedge, BTC, D(0), asset, D(qty), D(spot),
        D(share), D(pos), D(mark), D(target), D("0.02"), True,
    )  # fmt: skip


def test_a_shared_perp_is_split_by_the_targets_and_events_ordered_by_cycle() -> None:
    marks = [
        MarkRecord(T0, 1, ACCOUNT, "", D(0)),
        _mark(0, "btc", "BTC", "1", "100", "-2", "-3", "100", "-1"),
        _mark(0, "eth-x", "ETH", "10", "20", "-1", "-3", "100", "-2"),
        _mark(1, "btc", "BTC", "1", "110", "-1", "-3", "110", "-1"),
        _mark(1, "eth-x", "ETH", "10", "21", "-2", "-3", "110", "-2"),
    ]
    t1 = T0 + timedelta(hours=1)
    # at t1 exactly: a stop of cycle 1 came before the mark of cycle 2; cycle 2's order after it
    stop = StoredFill(1, "a", "o", "hb-ab12-1-BTCUSDT-s0", BTC, Side.BUY, D(1), D(105), D(0), "USDT", t1, None, D(0))  # fmt: skip
    later = StoredFill(2, "b", "o", "hb-ab12-2-BTCUSDT-h0", BTC, Side.SELL, D(1), D(110), D(0), "USDT", t1, None, D(0))  # fmt: skip
    pay = FundingPayment("f", BTC, D(3), t1)
    att = attribute(marks, [stop, later], [pay])
    assert att is not None
    # BTC perp: -3 x (110 - 100) + 1 x (110 - 105) = -25, split 1/3 : 2/3 by the targets
    assert att.total.total.perp == D(-25)
    assert abs(att.hedges["btc"].total.perp - D(-25) / 3) < D("1E-20")
    assert abs(att.hedges["eth-x"].total.perp - D(-50) / 3) < D("1E-20")
    assert att.total.total.funding == D(3) and att.total.total.stop_fills == 1
    assert att.hedges["eth-x"].total.spot == D(10)  # ETH's own spot, not BTC's
    assert cycle_of("hb-ab12-2-BTCUSDT-h0") == 2 and cycle_of("manual-1") == -1


def test_perp_slippage_is_measured_from_the_last_price_or_the_mark_in_older_rows() -> None:
    """Perp orders fill at the perp's last price: a sell at 99.98 with the last at 100 slipped
    0.02, even with the mark at 99 (the basis is no cost). A row without the last price (written
    before it was kept) falls back to the mark."""
    from dataclasses import replace

    before = _mark(0, "btc", "BTC", "1", "100", "0", "0", "99", "-1")
    after = _mark(1, "btc", "BTC", "1", "100", "-1", "-1", "99", "-1")
    sell = StoredFill(1, "a", "o", "hb-ab12-1-BTCUSDT-h0", BTC, Side.SELL, D(1), D("99.98"), D(0), "USDT", T0, None, D(0))  # fmt: skip
    att = attribute([replace(before, perp_last=D(100)), after], [sell], [])
    assert att is not None and att.total.total.slippage == D("0.02")
    old = attribute([before, after], [sell], [])
    assert old is not None and old.total.total.slippage == D("-0.98")  # the basis, as before


def test_effectiveness_and_drawdown() -> None:
    assert effectiveness([0.0, 0.0, 0.0], [0.01, -0.01, 0.02]) == 1.0
    assert effectiveness([0.01, -0.01], [0.01, -0.01]) == 0.0
    assert effectiveness([0.1], [0.2]) is None  # one return has no variance
    assert max_drawdown([D(100), D(120), D(90), D(130)]) == 0.25
    assert max_drawdown([D(0), D(-5)]) is None  # nothing to fall from


def test_one_snapshot_leaves_the_figures_over_time_blank_and_says_why() -> None:
    from bot.review.report import build, too_short

    # the only snapshot of a few-minute run is taken before its first order: unhedged
    one = [MarkRecord(T0, 1, ACCOUNT, "", D(0)), _mark(0, "btc", "BTC", "1", "100", "0", "0", "100", "-1")]  # fmt: skip
    att = attribute(one, [], [])
    assert att is not None
    report = build(att)
    for figures in (report["hedges"]["btc"], report["total"]):
        assert figures["avg_ratio"] is None and figures["time_outside_band"] is None
        assert figures["time_unprotected"] is None and figures["max_drawdown_hedged"] is None
    assert "period too short: 1 mark-to-market snapshot" in (too_short(report) or "")
    two = [*one, _mark(1, "btc", "BTC", "1", "100", "-1", "-1", "100", "-1")]
    longer = build(attribute(two, [], []))  # type: ignore[arg-type]
    assert longer["hedges"]["btc"]["avg_ratio"] == 0.5 and too_short(longer) is None
    assert longer["hedges"]["btc"]["time_outside_band"] == 0.5
