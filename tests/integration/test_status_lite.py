"""`hedgebot status` reads a SQLite file with the standard library (issue 10.5); it must show
what the Store path shows, and leave every other case to it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.domain import TradingState
from bot.review.queries import status_rows
from bot.review.status_lite import sqlite_path, status_lite
from tests.integration.paper import make_paper


async def test_the_lite_path_shows_what_the_store_shows(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    paper = await make_paper(url)
    try:
        for _ in range(6):  # hedges, stops, funding settled at 08:00
            await paper.cycle(advance=timedelta(hours=2))
        paper.venue.set_wallet("BTC", paper.venue.account.wallet["BTC"] * Decimal("1.1"))
        await paper.cycle()
        await paper.store.set_trading_state(TradingState.HALTED, "operator halt")
        expected = await status_rows(paper.store)
    finally:
        await paper.close()
    assert expected["recent_orders"] and expected["hedges"]  # something to compare
    assert expected["summary"][0]["funding_received"] != 0
    assert status_lite(url) == expected


def test_other_databases_are_left_to_the_store(tmp_path) -> None:
    assert status_lite("postgresql+asyncpg://u@h/db") is None
    assert status_lite(f"sqlite+aiosqlite:///{tmp_path / 'none.db'}") is None  # no file: its error
    assert not (tmp_path / "none.db").exists()  # and none created
    assert sqlite_path("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_path("sqlite+aiosqlite:///file:x.db?uri=true") is None
    (tmp_path / "junk.db").write_bytes(b"not a database")
    assert status_lite(f"sqlite:///{tmp_path / 'junk.db'}") is None  # the Store says what is wrong
