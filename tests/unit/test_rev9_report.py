"""Reviewer rev9 (issue 9): report defects shown on hand-made ledgers. Each test failed on the
code as reviewed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from bot.backtest.memory_store import MemoryStore
from bot.domain import Fill, Side
from bot.review.report import build, load
from bot.store.records import ACCOUNT, MarkRecord
from bot.store.repo import Store

T0 = datetime(2024, 1, 1, tzinfo=UTC)
BTC = "BTC/USDT:USDT"


def _mark(hours: int, hedge: str, asset: str, qty: str, spot: str, share: str, pos: str,
          mark: str, target: str) -> MarkRecord:  # fmt: skip
    return MarkRecord(
        T0 + timedelta(hours=hours), hours + 1, hedge, BTC, D(0), asset, D(qty), D(spot),
        D(share), D(pos), D(mark), D(target), D("0.02"), True,
    )  # fmt: skip


async def _shared_perp_store() -> Store:
    """btc (1 BTC) and eth-x (10 ETH, cross-hedged) share one BTC short of 3, split 1:2 by their
    targets; BTC's perp moves 100 -> 110 -> 99 and one cycle-2 sale adds to the short."""
    store = MemoryStore()
    marks = [MarkRecord(T0 + timedelta(hours=h), h + 1, ACCOUNT, "", D(0)) for h in range(3)]
    for h, spot, mark, pos in ((0, "100", "100", 3), (1, "110", "110", 3), (2, "99", "99", 4)):
        btc, eth = str(-D(pos) / 3), str(-D(pos) * 2 / 3)
        marks.append(_mark(h, "btc", "BTC", "1", spot, btc, str(-pos), mark, "-1"))
        marks.append(_mark(h, "eth-x", "ETH", "10", "20", eth, str(-pos), mark, "-2"))
    await store.add_marks(marks)
    sale = Fill("t1", "o1", "hb-bt-2-BTCUSDT-h0", BTC, Side.SELL, D(1), D(110), D("0.06"), "USDT",
                T0 + timedelta(hours=1))  # fmt: skip
    await store.add_fills([sale])
    return store  # type: ignore[return-value]


async def test_report_of_one_hedge_on_a_shared_perp_counts_only_its_share() -> None:
    """bot/review/report.py:load with --hedge: the marks query drops the other hedges' rows of
    the shared perp, so bot/review/report_calc.py:_weights sees one row and gives the selected
    hedge the WHOLE position. `report --hedge eth` on the cross example showed perp PnL 2,781
    (all of the BTC short), net +1,908 and effectiveness -16.96, where the full report says
    795, -62 and 0.87 for eth."""
    store = await _shared_perp_store()
    full = build(await load(store))  # type: ignore[arg-type]
    for name in ("btc", "eth-x"):
        one = build(await load(store, hedge=name))  # type: ignore[arg-type]
        assert set(one["hedges"]) == {name}
        for key in ("perp_pnl", "spot_pnl", "net_pnl", "fees", "effectiveness", "avg_ratio"):
            assert one["hedges"][name][key] == full["hedges"][name][key], (name, key)
            assert one["total"][key] == full["hedges"][name][key], (name, key)
        assert "account_change" not in one["total"]
    btc, eth = full["hedges"]["btc"]["perp_pnl"], full["hedges"]["eth-x"]["perp_pnl"]
    assert abs(eth - 2 * btc) < D("1E-20") and abs(btc + eth - full["total"]["perp_pnl"]) < D(
        "1E-20"
    )


def test_charts_of_one_snapshot_show_its_hour_without_warnings() -> None:
    """bot/review/charts.py: a period of one mark (a fresh `run --max-cycles 5`) drew empty axes
    spanning 2025 to 2029 and printed four matplotlib "AutoDateLocator was unable to pick an
    appropriate interval" warnings on the console of `report --out`."""
    import warnings

    import matplotlib.dates as mdates

    from bot.review import charts
    from bot.review.report_calc import attribute

    one = [MarkRecord(T0, 1, ACCOUNT, "", D(0)), _mark(0, "btc", "BTC", "1", "100", "0", "0", "100", "-1")]  # fmt: skip
    att = attribute(one, [], [])
    assert att is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for build in charts.BUILDERS.values():
            fig = build(att)
            for ax in fig.axes:
                lo, hi = (mdates.num2date(x) for x in ax.get_xlim())
                assert lo <= T0 <= hi and hi - lo <= timedelta(days=1)
            fig.canvas.draw()
            charts.plt.close(fig)


def test_spot_fills_count_whatever_the_quote_coin() -> None:
    """bot/review/report_calc.py:_interval looked spot fills up as ``<asset>/<quote>`` with the
    quote passed in, and `hedgebot report` (CLI and web) never passes the configured quote: with
    ``quote = "USDC"`` a basis leg's spot buys were left out of spot PnL, fees and turnover."""
    from bot.review.report_calc import attribute
    from bot.store.records import StoredFill

    perp = "ETH/USDC:USDC"
    rows = [
        MarkRecord(T0 + timedelta(hours=h), h + 1, "carry", perp, D(0), "ETH", D(qty), D(p),
                   D(size), D(size), D(p), D(size), D("0.02"), True)
        for h, qty, p, size in ((0, "0", "100", "0"), (1, "1", "110", "-1"))
    ]  # fmt: skip
    buy = StoredFill(1, "t", "o", "hb-bt-1-ETHUSDC-h0", "ETH/USDC", Side.BUY, D(1), D(101),
                     D("0.001"), "ETH", T0, "carry", D("0.101"))  # fmt: skip
    att = attribute(rows, [buy], [])
    assert att is not None
    # bought 1 ETH at 101 (fee 0.001 ETH), marked at 110: 1 x 9 - 0.001 x 9
    assert att.total.total.spot == D(9) - D("0.009")
    assert att.total.total.fees == D("0.101")
