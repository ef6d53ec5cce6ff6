"""The complete ledger (issue 9.1): fills of both legs with fees valued in the quote, funding as
payments only, and mark-to-market snapshots; on SQLite and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from bot.app import build_app
from bot.domain import Fill, Side
from bot.settings import RuntimeSettings, parse_config
from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.server import start_simulator
from bot.sim.venue import Venue
from bot.store import Store
from bot.store.migrate import upgrade
from bot.store.records import ACCOUNT, MarkRecord
from tests.integration.paper import DEMO, START, make_paper

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
BASIS = (
    '[planner]\ncooldown_seconds = 0\n[[hedges]]\nname = "carry"\nspot_asset = "ETH"\n'
    'perp = "ETH/USDT:USDT"\nstrategy = "basis"\n[hedges.params]\nqty = "40"\n'
)


def _venue(
    funding: str = "0.001", wallet: dict[str, str] | None = None
) -> tuple[ManualFeed, Venue]:
    feed = ManualFeed({"BTC": 60000, "ETH": 3000}, START, funding_rate=funding)
    cfg = VenueConfig.for_bases(
        ["BTC", "ETH"], wallet=wallet or {"USDT": "200000", "BTC": "2", "ETH": "30"}
    )
    return feed, Venue(feed, START, cfg)


@dataclass
class _Ccxt:
    """The bot through ccxt against the Bybit simulator over HTTP (the production path)."""

    venue: Venue
    store: Store
    engine: object

    async def cycle(self, advance: timedelta = timedelta(minutes=1)) -> object:
        self.venue.advance_to(self.venue.now + advance)
        return await self.engine.run_cycle()  # type: ignore[attr-defined]


@asynccontextmanager
async def _over_http(db_url: str, venue: Venue, config: str) -> AsyncIterator[_Ccxt]:
    sim = await start_simulator(venue=venue)
    runtime = RuntimeSettings(mode="paper", venue_url=sim.url, database_url=db_url)
    app = await build_app(runtime, parse_config(config), clock=lambda: venue.now)
    try:
        yield _Ccxt(venue, app.store, app.engine)
    finally:
        await app.close()
        await sim.stop()


async def test_basis_spot_and_perp_legs_are_both_in_the_ledger(db_url: str) -> None:
    _feed, venue = _venue(wallet={"USDT": "200000"})
    async with _over_http(db_url, venue, BASIS) as paper:
        await paper.cycle()
        await paper.cycle()
        fills = await paper.store.fills()
        by_symbol = {f.symbol: f for f in fills}
        assert set(by_symbol) == {"ETH/USDT", ETH}
        spot, perp = by_symbol["ETH/USDT"], by_symbol[ETH]
        assert (spot.side, spot.qty, spot.hedge) == (Side.BUY, D(40), "carry")
        # a fee in the coin bought (Bybit's spot buys) is valued at the fill price
        in_base = spot.fee_asset == "ETH"
        assert spot.fee > 0 and spot.fee_quote == (spot.fee * spot.price if in_base else spot.fee)
        assert perp.fee_asset == "USDT" and perp.fee_quote == perp.fee
        await paper.cycle()
        assert len(await paper.store.fills()) == 2  # re-reads add nothing


async def test_funding_is_a_payment_never_a_fill(db_url: str) -> None:
    _feed, venue = _venue(funding="0.0001")
    async with _over_http(db_url, venue, DEMO) as paper:
        await paper.cycle()
        await paper.cycle()
        trades = len(await paper.store.fills())
        assert trades == 2
        await paper.cycle(advance=timedelta(hours=8))  # crosses the 08:00 settlement
        payments = await paper.store.funding()
        assert {p.symbol for p in payments} == {BTC, ETH}
        fills = await paper.store.fills()
        assert len(fills) == trades
        assert not {p.payment_id for p in payments} & {f.trade_id for f in fills}


async def test_marks_value_each_hedge_and_the_account_hourly(db_url: str) -> None:
    feed, venue = _venue(funding="0")
    paper = await make_paper(db_url, venue=venue)
    try:
        await paper.cycle()  # first cycle: marked, then the shorts are opened
        await paper.cycle()  # same hour: no mark
        feed.set(venue.now + timedelta(minutes=30), "BTC", 66000)
        await paper.cycle(advance=timedelta(hours=1))
        marks = await paper.store.marks()
        assert len({m.ts for m in marks}) == 2
        first = [m for m in marks if m.ts == marks[0].ts]
        account = next(m for m in first if m.hedge == ACCOUNT)
        assert account.equity == D(200000) + 2 * 60000 + 30 * 3000
        btc = next(m for m in marks if m.hedge == "btc" and m.ts == marks[-1].ts)
        assert (btc.spot_asset, btc.spot_qty, btc.spot_price) == ("BTC", D(2), D(66000))
        assert btc.perp_size == D(-2) and btc.target_size == D(-2)
        assert btc.perp_mark == D(66000) and btc.protected is True
        # the hedge is worth its spot plus its short's loss: 2 x 66000 - 2 x (66000 - entry)
        assert abs(btc.equity - 2 * 60000) < 2 * 60000 * D("0.001")
        assert len(await paper.store.marks(hedge="eth")) == 4  # eth's two rows and the account's
    finally:
        await paper.close()


async def test_marks_and_fills_are_idempotent_on_their_keys(db_url: str) -> None:
    await upgrade(db_url)
    store = Store.from_url(db_url)
    ts = datetime(2024, 3, 1, tzinfo=UTC)
    try:
        mark = MarkRecord(ts, 1, "btc", BTC, equity=D("1.5"), spot_qty=D("2.000000001"))
        assert await store.add_marks([mark, MarkRecord(ts, 1, ACCOUNT, "", equity=D(3))]) == 2
        assert await store.add_marks([mark]) == 0
        stored = await store.marks(hedge="btc")
        assert [m.spot_qty for m in stored if m.hedge == "btc"] == [D("2.000000001")]
        fill = Fill("t1", "o1", None, "BTC/USDT", Side.BUY, D(1), D(100), D("0.001"), "BTC", ts)
        assert await store.add_fills([fill, fill]) == 1
        (row,) = await store.fills()
        assert row.fee_quote == D("0.1")
    finally:
        await store.close()


async def test_upgrade_values_the_fees_of_existing_fills(db_url: str) -> None:
    from sqlalchemy import insert

    from bot.store.db import make_engine
    from bot.store.models import FillRow

    await upgrade(db_url, "0001")
    engine = make_engine(db_url)
    rows = [
        ("a", "ETH/USDT", "2000", "0.01", "ETH"),
        ("b", "ETH/USDT:USDT", "2000", "1.1", "USDT"),
        ("c", "ETH/USDT", "2000", "0.3", "MNT"),
    ]
    async with engine.begin() as conn:
        for trade, symbol, price, fee, asset in rows:
            # only the columns revision 0001 has
            values = {"trade_id": trade, "venue_order_id": "o", "symbol": symbol, "side": "buy"}
            values |= {"qty": D(1), "price": D(price), "fee": D(fee), "fee_asset": asset}
            await conn.execute(insert(FillRow).values(**values, ts=START))
    await engine.dispose()
    await upgrade(db_url)
    store = Store.from_url(db_url)
    try:
        by_id = {f.trade_id: f.fee_quote for f in await store.fills()}
        assert by_id == {"a": D("20"), "b": D("1.1"), "c": None}
    finally:
        await store.close()
