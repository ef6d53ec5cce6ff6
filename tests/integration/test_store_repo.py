"""The Store on both SQLite and Postgres (``db_url`` is parametrized; see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.domain import (
    Bar,
    Fill,
    FundingPayment,
    IntentPurpose,
    IntentStatus,
    OrderIntent,
    OrderKind,
    Rejection,
    Side,
    TradingState,
)
from bot.store import (
    CycleRecord,
    EventRecord,
    IntentTransitionError,
    NotFound,
    Store,
    StoreConflict,
    TargetRecord,
)
from bot.store.migrate import upgrade

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
PERP = "BTC/USDT:USDT"


@dataclass
class Clock:
    now: datetime = T0
    step: timedelta = field(default=timedelta(seconds=1))

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


@pytest.fixture
async def clocked(db_url: str) -> AsyncIterator[tuple[Store, Clock]]:
    await upgrade(db_url)
    clock = Clock()
    store = Store.from_url(db_url, clock=clock)
    yield store, clock
    await store.close()


def intent(cid: str, cycle: int = 1, *, hedge: str = "btc", **kw: Any) -> OrderIntent:
    base = OrderIntent(cid, hedge, cycle, PERP, Side.SELL, Decimal("0.010"))
    return replace(base, **kw)


def fill(trade_id: str, *, cid: str | None = None, venue_id: str = "v-x", **kw: object) -> Fill:
    values: dict[str, object] = {
        "trade_id": trade_id,
        "venue_order_id": venue_id,
        "client_order_id": cid,
        "symbol": PERP,
        "side": Side.SELL,
        "qty": Decimal("0.010"),
        "price": Decimal("65000.5"),
        "fee": Decimal("0.39"),
        "fee_asset": "USDT",
        "ts": T0,
    }
    values.update(kw)
    return Fill(**values)  # type: ignore[arg-type]


def cycle(number: int, *intents: OrderIntent, **kw: object) -> CycleRecord:
    return CycleRecord(
        number=number,
        started_at=T0 + timedelta(minutes=number),
        trading_state=TradingState.ACTIVE,
        intents=list(intents),
        **kw,  # type: ignore[arg-type]
    )


DECIMALS = ["0.1", "1E-18", "123456789012345.123456789", "-42.5", "0.010", "0", "1E-8"]


async def test_money_comes_back_exactly(store: Store, db_url: str) -> None:
    fills = [
        fill(f"t{i}", qty=Decimal(v), price=Decimal(v), fee=Decimal(v))
        for i, v in enumerate(DECIMALS)
    ]
    assert await store.add_fills(fills) == len(DECIMALS)
    got = {f.trade_id: f for f in await store.fills()}
    for i, text in enumerate(DECIMALS):
        for value in (got[f"t{i}"].qty, got[f"t{i}"].price, got[f"t{i}"].fee):
            assert value == Decimal(text)
            # scale is kept on both backends for these values (none has a positive exponent)
            assert str(value) == str(Decimal(text))


async def test_positive_exponents_keep_their_value(store: Store, db_url: str) -> None:
    await store.add_fills([fill("t", qty=Decimal("1E+2"))])
    (got,) = await store.fills()
    assert got.qty == Decimal(100)
    # SQLite keeps the text as given; Postgres NUMERIC normalises 1E+2 to 100 (same value)
    assert str(got.qty) == ("1E+2" if db_url.startswith("sqlite") else "100")


async def test_times_come_back_aware_utc(store: Store) -> None:
    await store.add_fills([fill("t", ts=T0)])
    (got,) = await store.fills()
    assert got.ts == T0 and got.ts.utcoffset() == timedelta(0)


async def test_fills_are_idempotent_and_get_their_hedge(store: Store) -> None:
    await store.record_cycle(cycle(1, intent("c-1", hedge="btc"), intent("c-2", hedge="eth")))
    await store.update_intent("c-2", IntentStatus.OPEN, venue_order_id="v-2")
    batch = [
        fill("t1", cid="c-1"),
        fill("t2", venue_id="v-2"),  # no client id: matched by the venue id
        fill("t3", cid="foreign"),
        fill("t1", cid="c-1"),  # duplicate inside the batch
    ]
    assert await store.add_fills(batch) == 3
    assert await store.add_fills(batch) == 0
    assert await store.add_fills([*batch, fill("t4")]) == 1
    hedges = {f.trade_id: f.hedge for f in await store.fills()}
    assert hedges == {"t1": "btc", "t2": "eth", "t3": None, "t4": None}


async def test_fills_filter_and_order(store: Store) -> None:
    await store.add_fills(
        [
            fill("late", ts=T0 + timedelta(hours=2)),
            fill("early", ts=T0),
            fill("mid", ts=T0 + timedelta(hours=1)),
            fill("eth", ts=T0, symbol="ETH/USDT:USDT"),
        ]
    )
    assert [f.trade_id for f in await store.fills(symbol=PERP)] == ["early", "mid", "late"]
    since = await store.fills(since=T0 + timedelta(hours=1))
    assert [f.trade_id for f in since] == ["mid", "late"]
    assert [f.trade_id for f in await store.fills(symbol=PERP, limit=2)] == ["mid", "late"]
    assert (await store.fills(symbol=PERP))[0].to_fill() == fill("early", ts=T0)


async def test_funding_is_idempotent_and_exact(store: Store) -> None:
    payments = [
        FundingPayment("p1", PERP, Decimal("1.2300"), T0, Decimal("0.0001"), Decimal("-0.5")),
        FundingPayment("p2", PERP, Decimal("-0.07"), T0 + timedelta(hours=8)),
    ]
    assert await store.add_funding(payments) == 2
    assert await store.add_funding(payments) == 0
    got = await store.funding(symbol=PERP)
    assert got == payments and str(got[0].amount) == "1.2300"
    assert await store.funding(since=T0 + timedelta(hours=1)) == payments[1:]
    assert await store.funding(limit=1) == payments[1:]
    assert await store.funding(symbol="ETH/USDT:USDT") == []


async def test_record_cycle_writes_everything(clocked: tuple[Store, Clock]) -> None:
    store, _ = clocked
    assert await store.next_cycle_number() == 1
    record = cycle(
        1,
        intent("c-1"),
        targets=[
            TargetRecord("btc", PERP, Decimal("-0.5"), Decimal("-0.510"), Decimal("1.02"), "ratio")
        ],
        rejections=[Rejection("eth", "ETH/USDT:USDT", "risk", "notional cap", "c-9")],
        events=[EventRecord("guard", "notional cap hit", "warning", {"cap": Decimal("1000.00")})],
    )
    await store.record_cycle(record)
    assert await store.next_cycle_number() == 2
    (stored_cycle,) = await store.cycles()
    assert stored_cycle.outcome == "started" and stored_cycle.finished_at is None
    assert stored_cycle.started_at == T0 + timedelta(minutes=1)
    (stored,) = await store.intents()
    assert stored.status is IntentStatus.PENDING and stored.to_intent() == intent("c-1")
    assert stored.filled_qty == 0 and stored.venue_order_id is None
    (rej,) = await store.rejections()
    assert (rej.source, rej.reason, rej.cycle, rej.client_order_id) == (
        "risk",
        "notional cap",
        1,
        "c-9",
    )
    (event,) = await store.events()
    assert event.cycle == 1 and event.level == "warning" and event.data == {"cap": "1000.00"}
    target = (await store.last_targets())[("btc", PERP)]
    assert target.target_size == Decimal("-0.510") and str(target.target_size) == "-0.510"
    assert target.ratio == Decimal("1.02") and target.cycle == 1

    await store.finish_cycle(1, "ok", {"orders": 1, "notional": Decimal("32.5")})
    (done,) = await store.cycles()
    assert done.outcome == "ok" and done.summary == {"orders": 1, "notional": "32.5"}
    assert done.finished_at is not None and done.finished_at > T0


async def test_record_cycle_is_all_or_nothing(store: Store) -> None:
    await store.record_cycle(cycle(1, intent("c-1")))
    doomed = cycle(
        2,
        intent("c-2", cycle=2),
        intent("c-1", cycle=2),  # duplicate client order id: the whole cycle must vanish
        targets=[TargetRecord("btc", PERP, Decimal(0), Decimal(-1), None, "new target")],
        rejections=[Rejection("btc", PERP, "risk", "x")],
        events=[EventRecord("note", "should not persist")],
    )
    with pytest.raises(StoreConflict, match="cycle 2"):
        await store.record_cycle(doomed)
    assert [c.number for c in await store.cycles()] == [1]
    assert [i.client_order_id for i in await store.intents()] == ["c-1"]
    assert await store.rejections() == []
    assert await store.events() == []
    assert await store.last_targets() == {}
    assert await store.next_cycle_number() == 2
    with pytest.raises(StoreConflict):
        await store.record_cycle(cycle(1))  # a cycle number is used once


async def test_intent_lifecycle(clocked: tuple[Store, Clock]) -> None:
    store, _ = clocked
    stop = intent(
        "s-1",
        kind=OrderKind.STOP_MARKET,
        purpose=IntentPurpose.STOP,
        trigger_price=Decimal("70000"),
        reduce_only=True,
    )
    eth = intent("e-1", hedge="eth", symbol="ETH/USDT:USDT")
    await store.record_cycle(cycle(1, intent("c-1"), stop, eth))
    await store.update_intent("c-1", IntentStatus.OPEN, venue_order_id="v-1")
    await store.update_intent(
        "c-1", IntentStatus.FILLED, filled_qty=Decimal("0.010"), avg_price=Decimal("65000.25")
    )
    done = (await store.intents(statuses=[IntentStatus.FILLED]))[0]
    assert done.client_order_id == "c-1" and done.venue_order_id == "v-1"
    assert done.filled_qty == Decimal("0.010") and done.avg_price == Decimal("65000.25")
    assert done.updated_at > done.created_at

    stops = await store.intents(purpose=IntentPurpose.STOP)
    assert [i.client_order_id for i in stops] == ["s-1"] and stops[0].reduce_only
    pending = await store.intents(statuses=[IntentStatus.PENDING, IntentStatus.UNKNOWN])
    assert [i.client_order_id for i in pending] == ["e-1", "s-1"]
    assert [i.client_order_id for i in await store.intents(symbol="ETH/USDT:USDT")] == ["e-1"]

    with pytest.raises(IntentTransitionError):
        await store.update_intent("c-1", IntentStatus.CANCELLED)
    await store.update_intent("c-1", IntentStatus.FILLED, filled_qty=Decimal("0.010"))  # same: ok
    with pytest.raises(NotFound):
        await store.update_intent("nope", IntentStatus.OPEN)


async def test_venue_rejection_is_recorded_as_data(store: Store) -> None:
    await store.record_cycle(cycle(3, intent("c-1", cycle=3)))
    await store.update_intent("c-1", IntentStatus.REJECTED, reason="110007: insufficient balance")
    (intent_row,) = await store.intents()
    assert intent_row.status is IntentStatus.REJECTED and (intent_row.reason or "").startswith(
        "110007"
    )
    (rej,) = await store.rejections()
    assert rej.source == "venue" and rej.cycle == 3 and rej.side is Side.SELL
    assert rej.qty == Decimal("0.010") and rej.client_order_id == "c-1"


async def test_add_intents_outside_a_cycle(store: Store) -> None:
    await store.add_intents([intent("s-1", purpose=IntentPurpose.STOP), intent("s-2")])
    assert [i.client_order_id for i in await store.intents()] == ["s-2", "s-1"]  # newest first
    assert [i.client_order_id for i in await store.intents(limit=1)] == ["s-2"]
    with pytest.raises(StoreConflict):
        await store.add_intents([intent("s-3"), intent("s-1")])
    assert len(await store.intents()) == 2


async def test_trading_state_defaults_and_survives_restart(db_url: str, store: Store) -> None:
    assert await store.trading_state() == (TradingState.ACTIVE, "")
    await store.set_trading_state(TradingState.REDUCING, "margin ratio 0.8")
    await store.set_trading_state(TradingState.HALTED, "bad api key")
    await store.close()
    reopened = Store.from_url(db_url)
    try:
        assert await reopened.trading_state() == (TradingState.HALTED, "bad api key")
    finally:
        await reopened.close()


async def test_cursors(store: Store) -> None:
    assert await store.get_cursor("fills") is None
    await store.set_cursor("fills", "1700000000000")
    await store.set_cursor("fills", "1700000060000")
    await store.set_cursor("funding", "x")
    assert await store.get_cursor("fills") == "1700000060000"
    assert await store.get_cursor("funding") == "x"


def bar(hour: int, close: str = "100.5") -> Bar:
    c = Decimal(close)
    return Bar(T0 + timedelta(hours=hour), c, c + 1, c - 1, c, Decimal("12.000"))


async def test_bars_cache(store: Store) -> None:
    assert await store.add_bars(PERP, "1h", [bar(2), bar(0), bar(1)]) == 3
    assert await store.add_bars(PERP, "1h", [bar(1), bar(2, close="101.25"), bar(3)]) == 1
    got = await store.bars(PERP, "1h")
    assert [b.ts for b in got] == [T0 + timedelta(hours=h) for h in range(4)]
    assert got[2].close == Decimal("101.25")  # a re-fetched (once partial) bar replaces the old one
    assert str(got[0].volume) == "12.000"
    assert await store.bars(PERP, "1h", limit=2) == got[2:]
    assert await store.bars(PERP, "1h", since=T0 + timedelta(hours=3)) == got[3:]
    assert await store.bars(PERP, "4h") == []
    assert await store.add_bars(PERP, "4h", [bar(0)]) == 1
    assert await store.add_bars(PERP, "4h", []) == 0


async def test_last_targets_keep_the_latest_per_hedge(store: Store) -> None:
    def target(hedge: str, size: str) -> TargetRecord:
        return TargetRecord(hedge, PERP, Decimal(0), Decimal(size), None, f"size {size}")

    await store.record_cycle(cycle(1, targets=[target("a", "-1"), target("b", "-2")]))
    await store.record_cycle(cycle(2, targets=[target("a", "-3")]))
    latest = await store.last_targets()
    assert {k: (t.cycle, t.target_size) for k, t in latest.items()} == {
        ("a", PERP): (2, Decimal(-3)),
        ("b", PERP): (1, Decimal(-2)),
    }


async def test_events_newest_first_and_by_kind(store: Store) -> None:
    await store.add_event("config", "reloaded", data={"hedges": 2})
    await store.add_event("guard", "margin", level="warning", cycle=4)
    await store.add_event("config", "rejected", level="error")
    assert [e.message for e in await store.events()] == ["rejected", "margin", "reloaded"]
    assert [e.message for e in await store.events(kind="config", limit=1)] == ["rejected"]
    (guard,) = await store.events(kind="guard")
    assert guard.cycle == 4 and guard.level == "warning" and guard.data == {}


async def test_finish_unknown_cycle(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.finish_cycle(99, "ok", {})


async def test_refused_values_raise_plainly_and_write_nothing(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.add_fills([fill("t1"), fill("t2", ts=datetime(2024, 1, 1))])
    with pytest.raises(TypeError, match="Decimal"):
        await store.add_funding([FundingPayment("p", PERP, 0.5, T0)])  # type: ignore[arg-type]
    assert await store.fills() == [] and await store.funding() == []


async def test_target_details_survive_a_restart(store, db_url):
    from datetime import UTC, datetime

    from bot.domain import TradingState
    from bot.store import CycleRecord, Store, TargetRecord

    details = {"state": "in", "qty": "1.5"}
    await store.record_cycle(
        CycleRecord(
            number=1,
            started_at=datetime(2024, 1, 1, tzinfo=UTC),
            trading_state=TradingState.ACTIVE,
            targets=[
                TargetRecord(
                    "carry", "BTC/USDT:USDT", Decimal(0), Decimal("-1.5"), None, "r", details
                )
            ],
        )
    )
    reopened = Store.from_url(db_url)
    try:
        restored = (await reopened.last_targets())[("carry", "BTC/USDT:USDT")]
        assert dict(restored.details) == details
    finally:
        await reopened.close()
