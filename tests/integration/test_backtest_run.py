"""`hedgebot backtest` (issue 9.4) on the sample shipped in the package (no ../shared needed):
the live engine on a simulated clock, fills at each market's own price, funding on the position
held, warm-up from the bars before --from, gaps reported, deterministic, --compare."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.backtest.run import BacktestResult, run_backtest
from bot.cli import main
from bot.review.report import to_json
from bot.settings import parse_config
from bot.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "backtest" / "sample"
START, END = datetime(2020, 3, 4, tzinfo=UTC), datetime(2020, 3, 7, tzinfo=UTC)
CONFIG = """
[planner]
cooldown_seconds = 0
[risk]
max_overhedge = 2  # ETH's beta to BTC was about 1.6 then: a cross hedge shorts more BTC value
[paper]
wallet = { USDT = 20000, BTC = 1, ETH = 10 }
[[hedges]]
name = "btc"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
[[hedges]]
name = "eth-x"
spot_asset = "ETH"
perp = "BTC/USDT:USDT"
strategy = "cross"
[hedges.params]
window = 168
"""
DIRECT = (
    CONFIG.split('name = "eth-x"')[0] + 'name = "eth"\nspot_asset = "ETH"\nperp = "ETH/USDT:USDT"\n'
)


def _csv(name: str, column: int = 1) -> dict[datetime, str]:
    with (SAMPLE / name).open() as fh:
        return {datetime.fromisoformat(r[0]): r[column] for r in list(csv.reader(fh))[1:]}


@pytest.fixture(scope="module")
def cross_run() -> BacktestResult:
    return asyncio.run(run_backtest(SAMPLE, parse_config(CONFIG), start=START, end=END))


def test_the_live_engine_replays_every_bar_and_the_parts_add_up(cross_run) -> None:
    report = cross_run.report
    assert report is not None
    assert cross_run.cycles == 73 and cross_run.outcomes == {"ok": 73}
    assert report["backtest"]["asset_bars"] == 146 and report["total"]["bars"] == 73
    total = report["total"]
    assert abs(total["account_change"] - total["net_pnl"]) < D("0.01")
    # the cross hedge decided on its first cycle: its 168-bar window was read from before --from
    first_eth = next(m for m in cross_run.attribution.hedges["eth-x"].target_ratio)
    assert first_eth is not None and 0.3 < first_eth < 2
    # three days: the spot-vs-mark basis and funding are a visible share of the hourly noise
    assert report["hedges"]["btc"]["effectiveness"] > 0.8


def test_missing_bars_are_reported_not_filled(cross_run) -> None:
    assert cross_run.report["backtest"]["data_gaps"] == {"BTCUSDT_spot_1h": 1, "ETHUSDT_spot_1h": 1}
    assert any("2020-03-04 10:00" in line for line in cross_run.gaps.lines())


async def _direct_run(url: str) -> tuple[BacktestResult, list, BacktestResult]:
    result = await run_backtest(SAMPLE, parse_config(DIRECT), start=START, end=END, db_url=url)
    store = Store.from_url(url)
    try:
        fills = await store.fills()
    finally:
        await store.close()
    in_memory = await run_backtest(SAMPLE, parse_config(DIRECT), start=START, end=END)
    return result, fills, in_memory


def test_fills_at_the_perps_own_price_and_funding_on_the_position_held(tmp_path: Path) -> None:
    result, fills, in_memory = asyncio.run(_direct_run(f"sqlite+aiosqlite:///{tmp_path / 'bt.db'}"))
    # the default MemoryStore and a SQL database give the same report
    assert to_json(in_memory.report) == to_json(result.report)
    # the first cycle sells 1 BTC of perp at the last perp close less 2 bp, not at the mark
    perp_close = D(_csv("BTCUSDT_perp_1h.csv", 4)[START - timedelta(hours=1)])
    mark_close = D(_csv("BTCUSDT_mark_1h.csv")[START - timedelta(hours=1)])
    assert perp_close != mark_close
    sale = next(f for f in fills if f.symbol == "BTC/USDT:USDT")
    assert (sale.ts, sale.qty) == (START, D(1))
    assert sale.price == (perp_close * (1 - D("0.0002"))).quantize(D("0.1"), "ROUND_FLOOR")
    # funding: rate x 1 BTC (and 10 ETH) x the mark, at every settlement of the period
    expected = D(0)
    for base, size in (("BTC", 1), ("ETH", 10)):
        rates, marks = _csv(f"{base}USDT_funding.csv"), _csv(f"{base}USDT_mark_1h.csv")
        for ts, rate in rates.items():
            if START < ts <= END:
                expected += D(rate) * size * D(marks[ts - timedelta(hours=1)])
    got = result.report["total"]["funding"]
    assert abs(got - expected) < D("0.01"), (got, expected)
    assert result.report["total"]["stop_fills"] == 0 and result.liquidations == 0


def test_same_inputs_same_numbers_and_compare_side_by_side(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(DIRECT)
    args = ["backtest", "--data", str(SAMPLE), "--config", str(cfg), "--from", "2020-03-05"]
    args += ["--to", "2020-03-06", "--compare", "unhedged,direct", "--format", "json"]
    first = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, args)
    runs = json.loads(first.output)
    assert runs == json.loads(again.output)
    assert set(runs) == {"unhedged", "direct"}
    assert runs["unhedged"]["total"]["perp_pnl"] == "0.00000000"
    assert runs["direct"]["total"]["effectiveness"] > 0.8
    assert (tmp_path / "out" / "compare.png").exists()
    assert (tmp_path / "out" / "direct" / "report.json").exists()
    assert "compare" in (tmp_path / "out" / "report.html").read_text()


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(DIRECT)
    base = ["backtest", "--data", str(SAMPLE), "--config", str(cfg)]
    wrong = CliRunner().invoke(main, [*base, "--compare", "sideways"])
    assert wrong.exit_code == 2 and "--compare: unknown 'sideways'" in wrong.output
    late = CliRunner().invoke(main, [*base, "--from", "2024-01-01"])
    assert late.exit_code == 2 and "no data between" in late.output
    assert "Traceback" not in wrong.output + late.output


def test_report_json_matches_between_runs(cross_run) -> None:
    assert to_json(cross_run.report)["period"]["from"].startswith("2020-03-04T00:00")
