"""Reviewer rev9 (issue 9.7): `history fetch` from before a market's first bar, through ccxt
against the Bybit simulator replaying the shipped sample (which starts 2020-02-01)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from bot.exchange.factory import VenueConnection, ccxt_client
from bot.exchange.history_fetch import fetch_history
from bot.sim.server import start_simulator

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "backtest" / "sample"


def _rows(path: Path) -> list[list[str]]:
    with path.open() as fh:
        return list(csv.reader(fh))[1:]


async def test_a_since_before_the_listing_still_fetches_what_follows(tmp_path: Path) -> None:
    """bot/exchange/history_fetch.py:fetch_job stopped at the first empty page. A page is a window
    after ``since`` (ccxt asks Bybit's funding history for since + 200 settlements; a kline page
    is at most 1,000 bars), so a --since more than that before a coin's listing (SOL with
    --since 2020-01-01, say) wrote headers only, every run, silently: the backtest then ran
    without funding (reported as a gap, but the fetch said "0 new rows" as if up to date)."""
    sim = await start_simulator(data_dir=SAMPLE, start=datetime(2020, 3, 20, tzinfo=UTC))
    client = ccxt_client(VenueConnection("bybit", "paper", url=sim.url, enable_rate_limit=False))
    since, until = datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 2, 10, tzinfo=UTC)
    try:
        written = await fetch_history(client, ["BTCUSDT"], since, until, tmp_path)
    finally:
        await client.close()
        await sim.stop()
    hours = 9 * 24  # 2020-02-01 00:00 to 2020-02-09 23:00
    for kind in ("perp_1h", "spot_1h", "mark_1h"):
        rows = _rows(tmp_path / f"BTCUSDT_{kind}.csv")
        assert written[f"BTCUSDT_{kind}.csv"] == len(rows) == hours, kind
        assert rows[0][0] == "2020-02-01T00:00:00Z" and rows[-1][0] == "2020-02-09T23:00:00Z"
    funding = _rows(tmp_path / "BTCUSDT_funding.csv")
    assert len(funding) == 9 * 3 + 1 and funding[0][0] == "2020-02-01T00:00:00Z"
