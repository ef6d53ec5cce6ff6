"""The stop-loss guards against liquidation, not against price (issue 7.3, ARCHITECTURE rule 11),
through ccxt's bybit class against the HTTP simulator, the price path driven over the simulator's
signed control routes (POST /sim/price, /sim/advance) as an operator's drill would drive it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal as D

from bot.domain import OpenOrder, PerpPosition, TradingState
from bot.protect import StopPolicy
from bot.sim.control_client import SimControl
from bot.sim.manual import ManualFeed
from bot.sim.markets import VenueConfig
from bot.sim.venue import Venue
from tests.integration.paper import START, Paper, make_paper

BTC = "BTC/USDT:USDT"


def _config(ratio: str, extra: str = "") -> str:
    return (
        f"[planner]\ncooldown_seconds = 0\n[risk]\nstop_entry_multiple = 1.5\n{extra}\n"
        '[[hedges]]\nname = "btc"\nspot_asset = "BTC"\nperp = "BTC/USDT:USDT"\n'
        f'[hedges.params]\nratio = "{ratio}"\n'
    )


@dataclass
class Rig:
    paper: Paper
    control: SimControl

    async def cycle(self, advance: timedelta = timedelta(minutes=1)):
        await self.control.advance(advance.total_seconds())
        return await self.paper.engine.run_cycle()

    async def move(self, price: int | D, advance: timedelta = timedelta(minutes=1)):
        """Set the price on the venue, let its clock (marks, triggers) run, then one cycle."""
        await self.control.price("BTC", price)
        return await self.cycle(advance)

    async def short(self) -> PerpPosition | None:
        return (await self.paper.port.fetch_positions()).get(BTC)

    async def stops(self) -> list[OpenOrder]:
        orders = await self.paper.port.fetch_open_orders(None)
        return [o for o in orders if o.symbol == BTC and o.trigger_price is not None]


@asynccontextmanager
async def rig(tmp_path, config: str, usdt: str = "100000") -> AsyncIterator[Rig]:
    feed = ManualFeed({"BTC": 60000}, start=START - timedelta(days=1))
    wallet = {"USDT": usdt, "BTC": "2"}
    venue = Venue(feed, START, VenueConfig.for_bases(["BTC"], wallet=wallet))
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'stops.db'}"
    paper = await make_paper(db_url, venue=venue, config=config, transport="http")
    assert paper.sim is not None
    control = SimControl(paper.sim.url)
    try:
        yield Rig(paper, control)
    finally:
        await control.close()
        await paper.close()


def _anchor(pos: PerpPosition) -> D:
    """Independent of the bot's code: 5% below a liquidation price above the mark, else 1.5 x
    the entry price (as configured here); never above 10 x entry."""
    liq = pos.liquidation_price
    point = liq * D("0.95") if liq is not None and liq > pos.mark_price else None
    return min(point or pos.entry_price * D("1.5"), pos.entry_price * 10)


def near(trigger: D | None, anchor: D) -> bool:
    """Within the re-placement tolerance: the entry price settles a little after placement."""
    return trigger is not None and abs(trigger / anchor - 1) < D("0.01")


async def test_a_crash_and_a_15_percent_rebound_leave_the_short_and_its_stop_in_place(tmp_path):
    async with rig(tmp_path, _config("1")) as r:
        await r.cycle()
        await r.cycle()
        pos = await r.short()
        assert pos is not None and pos.size == D(-2)
        (stop,) = await r.stops()
        assert near(stop.trigger_price, _anchor(pos))  # anchored, not 15% above the mark
        assert r.paper.engine.stop_policy == StopPolicy(
            liquidation_buffer=D("0.05"), entry_multiple=D("1.5"), tolerance=D("0.03")
        )
        # a 30% crash over six hours, one cycle an hour, then a 15% rebound over three
        path = [round(60000 * 0.7 ** (k / 6)) for k in range(1, 7)] + [44000, 46500, 48400]
        assert path[5] == 42000
        for price in path:
            outcome = await r.move(price, advance=timedelta(hours=1))
            assert outcome.outcome == "ok", outcome.summary
        pos = await r.short()
        assert pos is not None and pos.size == D(-2), "the rebound closed the hedge"
        assert [(s.client_order_id, s.trigger_price) for s in await r.stops()] == [
            (stop.client_order_id, stop.trigger_price)
        ], "the stop moved with the mark"
        assert await r.paper.store.events(kind="stop_fired") == []
        assert (await r.paper.store.trading_state())[0] == TradingState.ACTIVE


async def test_a_move_to_the_buffer_fires_the_stop_then_the_bot_rehedges_after_the_cooldown(
    tmp_path,
):
    # half hedged: the account is long overall, so the venue reports no liquidation price above
    # the mark and the stop sits at 1.5 x entry
    cfg = _config("0.5", "stop_rehedge_cooldown_seconds = 600")
    async with rig(tmp_path, cfg) as r:
        await r.cycle()
        await r.cycle()
        pos = await r.short()
        assert pos is not None and pos.size == D(-1)
        (stop,) = await r.stops()
        assert near(stop.trigger_price, _anchor(pos))
        await r.move(stop.trigger_price * D("1.002"))  # the mark reaches the trigger
        assert await r.short() is None  # the stop fired and closed the short
        (fired,) = await r.paper.store.events(kind="stop_fired")
        assert fired.level == "warning" and "re-hedging after" in fired.message
        assert (await r.paper.store.trading_state())[0] == TradingState.ACTIVE
        fired_at = datetime.fromisoformat(fired.data["rehedge_after"]) - timedelta(seconds=600)
        while r.paper.venue.now + timedelta(minutes=1) < fired_at + timedelta(seconds=600):
            assert (await r.cycle()).outcome == "ok"
            assert await r.short() is None, "re-hedged before the cooldown ended"
        assert await r.paper.store.events(kind="rehedge_wait")
        await r.cycle(timedelta(minutes=2))  # the cooldown is over: the hedge comes back
        await r.cycle()  # ... and gets its stop
        pos = await r.short()
        assert pos is not None and pos.size == D(-1)
        (new_stop,) = await r.stops()
        assert new_stop.client_order_id != stop.client_order_id
        assert near(new_stop.trigger_price, _anchor(pos))


async def test_on_stop_fill_halt_halts_and_does_not_rehedge(tmp_path):
    async with rig(tmp_path, _config("0.5", 'on_stop_fill = "halt"')) as r:
        await r.cycle()
        await r.cycle()
        (stop,) = await r.stops()
        await r.move(stop.trigger_price * D("1.002"))
        state, reason = await r.paper.store.trading_state()
        assert state == TradingState.HALTED and reason == f"stop-loss fired on {BTC}"
        assert (await r.cycle(timedelta(minutes=30))).outcome == "halted"
        assert await r.short() is None


async def test_a_short_on_thin_margin_is_stopped_a_buffer_below_its_liquidation_price(tmp_path):
    # 3 BTC short on 2 BTC of spot and 5000 USDT: the venue reports a reachable liquidation price
    cfg = _config("1.5", 'max_overhedge = 1.5\non_stop_fill = "halt"')
    async with rig(tmp_path, cfg, usdt="5000") as r:
        await r.cycle()
        await r.cycle()
        pos = await r.short()
        assert pos is not None and pos.size == D(-3)
        liq = pos.liquidation_price
        assert liq is not None and pos.mark_price < liq < pos.entry_price * 10
        (stop,) = await r.stops()
        assert near(stop.trigger_price, liq * D("0.95"))
        assert stop.trigger_price is not None and stop.trigger_price < liq
        await r.move(stop.trigger_price * D("1.01"))  # into the buffer, short of liquidation
        assert await r.short() is None
        assert r.paper.venue.liquidations == []  # the stop closed it, not the liquidation engine
        assert (await r.paper.store.trading_state())[1] == f"stop-loss fired on {BTC}"
