"""`hedgebot history fetch` (issue 9.7) through ccxt against the Bybit simulator replaying the
shipped sample: the files come out in the backtest layout, paginated, and a second run resumes
where the first stopped."""

from __future__ import annotations

import asyncio
import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.exchange.factory import VenueConnection, ccxt_client
from bot.exchange.history_fetch import fetch_history
from bot.sim.server import start_simulator

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "backtest" / "sample"
FEB, MID, END = (datetime(2020, m, d, tzinfo=UTC) for m, d in ((2, 1), (2, 20), (3, 19)))


def _rows(path: Path) -> list[list[str]]:
    with path.open() as fh:
        return list(csv.reader(fh))


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


async def _sim():  # the venue's clock stands after the period fetched
    return await start_simulator(data_dir=SAMPLE, start=datetime(2020, 3, 20, tzinfo=UTC))


async def test_pages_resume_and_match_the_source(tmp_path: Path) -> None:
    sim = await _sim()
    client = ccxt_client(VenueConnection("bybit", "paper", url=sim.url, enable_rate_limit=False))
    try:
        first = await fetch_history(client, ["BTCUSDT"], FEB, MID, tmp_path / "two")
        second = await fetch_history(client, ["BTCUSDT"], FEB, END, tmp_path / "two")
        again = await fetch_history(client, ["BTCUSDT"], FEB, END, tmp_path / "two")
        whole = await fetch_history(client, ["BTCUSDT"], FEB, END, tmp_path / "one")
    finally:
        await client.close()
        await sim.stop()
    hours = (END - FEB).days * 24
    assert first["BTCUSDT_perp_1h.csv"] == (MID - FEB).days * 24  # more than one 1000-bar page
    assert first["BTCUSDT_perp_1h.csv"] + second["BTCUSDT_perp_1h.csv"] == hours
    assert set(again.values()) == {0}  # nothing new: nothing appended
    for name in whole:
        assert _rows(tmp_path / "two" / name) == _rows(tmp_path / "one" / name)
    perp = _rows(tmp_path / "one" / "BTCUSDT_perp_1h.csv")
    source = {r[0]: r for r in _rows(SAMPLE / "BTCUSDT_perp_1h.csv")}
    assert perp[0] == ["timestamp", "open", "high", "low", "close", "volume"]
    assert len(perp) == hours + 1 and len(set(r[0] for r in perp)) == hours + 1
    for row in perp[1:]:  # the venue quotes on its 0.10 tick
        assert abs(float(row[4]) - float(source[row[0]][4])) <= 0.05 + 1e-9
    funding = _rows(tmp_path / "one" / "BTCUSDT_funding.csv")
    source_funding = {r[0]: r[1] for r in _rows(SAMPLE / "BTCUSDT_funding.csv")}
    assert len(funding) - 1 == (END - FEB).days * 3 + 1
    assert all(float(source_funding[t]) == float(r) for t, r in funding[1:])


async def test_the_command_writes_the_layout_a_backtest_reads(tmp_path: Path) -> None:
    sim = await _sim()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "history", "fetch", "--symbols", "BTCUSDT,ETHUSDT",
            "--since", "2020-03-01", "--until", "2020-03-05", "--out", str(tmp_path),
            "--url", sim.url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
    finally:
        await sim.stop()
    assert proc.returncode == 0, out.decode()
    assert "BTCUSDT_perp_1h.csv: 96 new rows" in out.decode()
    names = _names(tmp_path)
    for base in ("BTCUSDT", "ETHUSDT"):
        assert {f"{base}_{k}.csv" for k in ("perp_1h", "spot_1h", "mark_1h", "funding")} <= names
