"""Reviewer rev9 (issue 9): defects of the review commands as a user meets them. Each test failed
on the code as reviewed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.integration.review_scenario import scripted_run


@pytest.fixture(scope="module")
def scripted_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('rev9') / 'r.db'}"

    async def run() -> None:
        paper = await scripted_run(url)
        await paper.close()

    asyncio.run(run())
    return url


def _report(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["report", *args], env={"HEDGEBOT_DATABASE_URL": url})
    return result.exit_code, result.output


def test_report_since_and_until_narrow_the_period(scripted_db: str) -> None:
    """bot/cli_review.py:report: the --since/--until callback (bot/cli_list.py:_when) hands over
    the text, resolved later for listings; report passed it to the store as is, so every value
    (2024-01-01, 2h, 7d) ended in `unexpected error: TypeError: UTCDateTime needs a datetime,
    got str`, exit 1: the documented period options did not work at all."""
    code, out = _report(scripted_db, "--format", "json")
    assert code == 0, out
    full = json.loads(out)
    code, out = _report(scripted_db, "--since", "2000-01-01", "--until", "2100-01-01", "--format",
                        "json")  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["period"] == full["period"]
    # an age counts back from the bot's clock (its newest cycle), as the listings do
    code, out = _report(scripted_db, "--since", "3h", "--format", "json")
    assert code == 0, out
    part = json.loads(out)
    assert full["period"]["from"] < part["period"]["from"] <= part["period"]["to"]
    assert part["period"]["to"] == full["period"]["to"]
    code, out = _report(scripted_db, "--until", "2000-01-01")
    assert code == 0 and "no mark-to-market snapshots" in out


def test_report_out_that_cannot_be_written_is_bad_input(scripted_db: str, tmp_path: Path) -> None:
    """An --out path under a file: `unexpected error: NotADirectoryError`, exit 1 (the exit code of
    a bug); it is the user's input, so one line naming --out and exit 2."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out = _report(scripted_db, "--out", str(blocker / "sub"))
    assert code == 2, out
    assert out.count("\n") <= 2 and "--out" in out and "unexpected" not in out


def test_report_of_an_unknown_hedge_names_the_known_ones(scripted_db: str) -> None:
    """`report --hedge etj` (a typo) said "no mark-to-market snapshots in the database for this
    period: run the bot (or a backtest) first" about a database full of them."""
    code, out = _report(scripted_db, "--hedge", "etj")
    assert code == 2, out
    assert "etj" in out and "btc, eth" in out and "run the bot" not in out


async def test_status_funding_counts_every_payment(tmp_path: Path) -> None:
    """bot/review/queries.py:status_rows summed the newest 10,000 payments only: a year of ten
    8-hourly hedges (10,950 payments) and `hedgebot status` silently stopped counting the oldest."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal as D

    from bot.domain import FundingPayment
    from bot.review.queries import status_rows
    from bot.store import Store
    from bot.store.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    await upgrade(url)
    store = Store.from_url(url)
    try:
        t0 = datetime(2024, 1, 1, tzinfo=UTC)
        await store.add_funding(
            [FundingPayment(f"p{i}", "BTC/USDT:USDT", D("0.5"), t0 + timedelta(hours=8 * i))
             for i in range(10_001)]
        )  # fmt: skip
        summary = (await status_rows(store))["summary"][0]
    finally:
        await store.close()
    assert summary["funding_received"] == D("5000.5")


async def test_the_parts_sum_to_the_account_change_through_ccxt_and_http(tmp_path: Path) -> None:
    """The sum-to-the-cent check of the report on the production path (ccxt's bybit class
    against the HTTP simulator): fees, fee coins, funding signs and times as ccxt maps them."""
    from datetime import timedelta
    from decimal import Decimal as D

    from bot.review.report import build, load
    from bot.settings import parse_config
    from bot.sim.manual import ManualFeed
    from bot.sim.markets import VenueConfig
    from bot.sim.venue import Venue
    from tests.integration.paper import START, make_paper
    from tests.integration.review_scenario import HALF_BTC, HOUR

    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, START, funding_rate="0.0003")
    cfg = VenueConfig.for_bases(["BTC", "ETH"], wallet={"USDT": "100000", "BTC": "2", "ETH": "30"})
    venue = Venue(feed, START, cfg)
    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", venue=venue,
                             transport="http")  # fmt: skip
    try:
        await paper.cycle()
        for btc, eth in [(61000, 2950), (59000, 3100), (58000, 3050), (62000, 2900)]:
            at = venue.now + timedelta(minutes=10)
            feed.set(at, "BTC", spot=btc, perp=btc + 15, mark=btc + 5)
            feed.set(at, "ETH", spot=eth, perp=eth - 1, mark=eth + 0.5)
            await paper.cycle(advance=HOUR)
        paper.engine.apply_config(parse_config(HALF_BTC))
        await paper.cycle(advance=HOUR)
        feed.set(venue.now + timedelta(minutes=10), "BTC", 95000)
        for _ in range(3):
            await paper.cycle(advance=HOUR)
        report = build(await load(paper.store))  # type: ignore[arg-type]
        funding = await paper.store.funding()
    finally:
        await paper.close()
    total = report["total"]
    assert abs(total["account_change"] - total["net_pnl"]) < D("0.01"), total["unexplained"]
    assert total["funding"] == sum(p.amount for p in funding) > 0
    assert total["stop_fills"] == 1 and total["fees"] > 0
