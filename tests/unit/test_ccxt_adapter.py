"""CcxtExchange decisions that do not need a venue: lookups, ambiguous creates, tolerated codes,
the Binance profile's paths. A scripted stand-in for a ccxt client records every call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest
from ccxt.base import errors as ccxt_errors

from bot.domain import IntentStatus, MarketKind, OrderIntent, OrderKind, OrderState, Side
from bot.errors import AmbiguousSubmit, FatalExchangeError, OrderRejected, TransientError
from bot.exchange.ccxt_adapter import CcxtExchange
from bot.exchange.retry import RetryPolicy
from bot.exchange.venues import BINANCE, BYBIT

PERP = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT:USDT",
    "base": "BTC",
    "quote": "USDT",
    "settle": "USDT",
    "swap": True,
    "linear": True,
    "contractSize": 1.0,
    "precision": {"amount": 0.001, "price": 0.1},
    "limits": {"amount": {"min": 0.001}, "cost": {"min": 5}},
    "info": {},
}
SPOT = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "spot": True,
    "precision": {"amount": 0.000001, "price": 0.01},
    "limits": {},
    "info": {},
}


class ScriptedClient:
    """Answers each method from a queue (a value, an exception to raise, or a callable)."""

    id = "scripted"
    apiKey = "KEY-abcdef"
    secret = "SECRET-abcdef"

    def __init__(self, **script: list[Any]) -> None:
        self.script = {name: list(items) for name, items in script.items()}
        self.calls: list[tuple[str, tuple]] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        async def method(*args: Any) -> Any:
            self.calls.append((name, args))
            if name == "load_markets":
                return {"BTC/USDT:USDT": PERP, "BTC/USDT": SPOT}
            queue = self.script.get(name) or []
            item = queue.pop(0) if queue else []
            if isinstance(item, BaseException):
                raise item
            return item(*args) if callable(item) else item

        return method

    def named(self, name: str) -> list[tuple]:
        return [args for n, args in self.calls if n == name]


async def no_sleep(_: float) -> None:
    return None


def exchange(client: ScriptedClient, profile=BYBIT, kinds=None) -> CcxtExchange:
    kw: dict = {"kinds": kinds} if kinds else {}
    return CcxtExchange(client, profile, retry=RetryPolicy(attempts=3), sleep=no_sleep, **kw)


def intent(**over: Any) -> OrderIntent:
    fields: dict = {
        "client_order_id": "hb-1-btc-1",
        "hedge": "btc",
        "cycle": 1,
        "symbol": "BTC/USDT:USDT",
        "side": Side.SELL,
        "qty": D("0.010"),
    }
    fields.update(over)
    return OrderIntent(**fields)


def row(cid: str, status: str = "open", **info: Any) -> dict:
    return {
        "id": "v-1",
        "clientOrderId": cid,
        "symbol": "BTC/USDT:USDT",
        "side": "sell",
        "type": "market",
        "status": status,
        "amount": 0.01,
        "filled": 0.01 if status == "closed" else 0.0,
        "info": {"orderLinkId": cid, **info},
    }


async def test_create_always_sends_the_client_id_and_returns_open() -> None:
    client = ScriptedClient(create_order=[{"id": "v-1", "clientOrderId": "hb-1-btc-1"}])
    ack = await exchange(client).create_order(intent())
    assert ack.status == IntentStatus.OPEN and ack.venue_order_id == "v-1"
    (args,) = client.named("create_order")
    assert args[:5] == ("BTC/USDT:USDT", "market", "sell", 0.01, None)
    assert args[5] == {"clientOrderId": "hb-1-btc-1"}


async def test_stop_loss_params_for_a_short() -> None:
    client = ScriptedClient(create_order=[{"id": "v-2"}])
    stop = intent(
        side=Side.BUY, kind=OrderKind.STOP_MARKET, trigger_price=D("65000.5"), reduce_only=True
    )
    await exchange(client).create_order(stop)
    params = client.named("create_order")[0][5]
    assert params == {
        "clientOrderId": "hb-1-btc-1",
        "reduceOnly": True,
        "triggerPrice": 65000.5,
        "triggerDirection": "above",
        "triggerBy": "MarkPrice",
    }


async def test_limit_order_sends_its_price() -> None:
    client = ScriptedClient(create_order=[{"id": "v-3"}])
    await exchange(client).create_order(intent(kind=OrderKind.LIMIT, price=D("61000.1")))
    assert client.named("create_order")[0][1:5] == ("limit", "sell", 0.01, 61000.1)


async def test_timeout_on_create_found_by_client_id_is_acked_without_resending() -> None:
    client = ScriptedClient(
        create_order=[ccxt_errors.RequestTimeout("bybit POST http://x/v5/order/create")],
        fetch_open_orders=[[row("hb-1-btc-1")]],
    )
    ack = await exchange(client).create_order(intent())
    assert ack.status == IntentStatus.OPEN and ack.venue_order_id == "v-1"
    assert len(client.named("create_order")) == 1
    lookup = client.named("fetch_open_orders")[0]
    assert lookup[0] == "BTC/USDT:USDT" and lookup[3] == {"orderLinkId": "hb-1-btc-1"}


async def test_timeout_on_create_not_found_is_ambiguous_after_every_lookup() -> None:
    client = ScriptedClient(create_order=[ccxt_errors.NetworkError("reset")])
    with pytest.raises(AmbiguousSubmit):
        await exchange(client).create_order(intent())
    assert len(client.named("create_order")) == 1
    # open and closed listings; Bybit's hold conditional orders too without an orderFilter
    assert [c[3] for c in client.named("fetch_open_orders")] == [{"orderLinkId": "hb-1-btc-1"}]
    closed = client.named("fetch_canceled_and_closed_orders")
    assert [c[3] for c in closed] == [{"orderLinkId": "hb-1-btc-1"}]


async def test_response_without_an_id_is_resolved_by_lookup() -> None:
    client = ScriptedClient(
        create_order=[{"id": None}],
        fetch_open_orders=[[], []],
        fetch_canceled_and_closed_orders=[[row("hb-1-btc-1", "closed")]],
    )
    ack = await exchange(client).create_order(intent())
    assert ack.venue_order_id == "v-1"
    client2 = ScriptedClient(create_order=[{}])
    with pytest.raises(AmbiguousSubmit, match="without an order id"):
        await exchange(client2).create_order(intent())


async def test_duplicate_client_id_means_the_first_attempt_got_through() -> None:
    dup = ccxt_errors.InvalidOrder('bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate"}')
    client = ScriptedClient(create_order=[dup], fetch_open_orders=[[row("hb-1-btc-1")]])
    ack = await exchange(client).create_order(intent())
    assert ack.status == IntentStatus.OPEN


async def test_rejection_is_not_looked_up_and_keeps_the_reason() -> None:
    body = '{"retCode":110017,"retMsg":"Reduce-only rule not satisfied"}'
    client = ScriptedClient(create_order=[ccxt_errors.InvalidOrder("bybit " + body)])
    with pytest.raises(OrderRejected, match="Reduce-only rule not satisfied"):
        await exchange(client).create_order(intent(reduce_only=True))
    assert client.named("fetch_open_orders") == []


async def test_rate_limited_create_is_not_retried() -> None:
    client = ScriptedClient(create_order=[ccxt_errors.RateLimitExceeded("10006")])
    with pytest.raises(TransientError):
        await exchange(client).create_order(intent())
    assert len(client.named("create_order")) == 1


async def test_reads_are_retried_and_classified() -> None:
    client = ScriptedClient(
        fetch_balance=[ccxt_errors.ExchangeNotAvailable("503"), {"total": {"USDT": 5.0}}]
    )
    balances = await exchange(client).fetch_balances()
    assert balances["USDT"].total == D("5.0")
    assert len(client.named("fetch_balance")) == 2


async def test_fatal_read_is_not_retried_and_secrets_never_surface() -> None:
    client = ScriptedClient(
        fetch_balance=[ccxt_errors.AuthenticationError("bybit KEY-abcdef SECRET-abcdef invalid")]
    )
    with pytest.raises(FatalExchangeError) as info:
        await exchange(client).fetch_balances()
    assert "KEY-abcdef" not in str(info.value) and "SECRET-abcdef" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert len(client.named("fetch_balance")) == 1


async def test_unknown_symbol_is_fatal() -> None:
    with pytest.raises(FatalExchangeError, match="unknown symbol"):
        await exchange(ScriptedClient()).fetch_tickers(["DOGE/USDT:USDT"])


async def test_set_leverage_tolerates_not_modified_only() -> None:
    same = ccxt_errors.BadRequest('bybit {"retCode":110043,"retMsg":"leverage not modified"}')
    client = ScriptedClient(set_leverage=[same])
    await exchange(client).set_leverage("BTC/USDT:USDT", D(3))
    assert client.named("set_leverage") == [(3, "BTC/USDT:USDT")]
    assert isinstance(client.named("set_leverage")[0][0], int)
    too_high = ccxt_errors.BadRequest('bybit {"retCode":10001,"retMsg":"leverage invalid"}')
    with pytest.raises(FatalExchangeError, match="leverage invalid"):
        await exchange(ScriptedClient(set_leverage=[too_high])).set_leverage(
            "BTC/USDT:USDT", D(300)
        )


async def test_cancel_of_an_unknown_order_is_false() -> None:
    client = ScriptedClient(cancel_order=[ccxt_errors.OrderNotFound("110001")])
    assert await exchange(client).cancel_order("BTC/USDT:USDT", "hb-x") is False
    assert client.named("cancel_order") == [(None, "BTC/USDT:USDT", {"orderLinkId": "hb-x"})]
    ok = ScriptedClient(cancel_order=[{"id": "v-1"}])
    assert await exchange(ok).cancel_order("BTC/USDT:USDT", "hb-x") is True


async def test_open_orders_merge_plain_and_conditional_listings() -> None:
    stop = row("sl-1", triggerPrice="65000")
    stop["id"] = "v-9"
    client = ScriptedClient(fetch_open_orders=[[row("hb-1")], [stop, row("hb-1")]])
    separate = replace(BYBIT, listing_includes_triggers=False)  # a venue listing them apart
    orders = await exchange(client, separate).fetch_open_orders(None)
    assert sorted(o.client_order_id or "" for o in orders) == ["hb-1", "sl-1"]
    first, second = client.named("fetch_open_orders")
    assert first[0] is None and first[3]["settleCoin"] == "USDT"
    assert second[3]["orderFilter"] == "StopOrder"


async def test_bybit_lists_plain_and_conditional_orders_in_one_request() -> None:
    stop = row("sl-1", triggerPrice="65000")
    stop["id"] = "v-9"
    client = ScriptedClient(fetch_open_orders=[[row("hb-1"), stop]])
    orders = await exchange(client).fetch_open_orders(None)
    assert sorted(o.client_order_id or "" for o in orders) == ["hb-1", "sl-1"]
    (only,) = client.named("fetch_open_orders")
    assert "orderFilter" not in only[3]


async def test_spot_only_client_has_no_perp_listings() -> None:
    client = ScriptedClient()
    spot = exchange(client, kinds=frozenset({MarketKind.SPOT}))
    assert await spot.fetch_positions() == {}
    assert await spot.fetch_open_orders(None) == []
    assert await spot.fetch_fills(None, None) == []
    assert set(await spot.load_markets()) == {"BTC/USDT"}
    assert client.named("fetch_positions") == []


async def test_binance_profile_fetches_by_client_id_and_tries_the_algo_service() -> None:
    client = ScriptedClient(
        fetch_order=[ccxt_errors.OrderNotFound("-2013"), row("sl-1", "canceled")]
    )
    report = await exchange(client, BINANCE).fetch_order("BTC/USDT:USDT", "sl-1")
    assert report is not None and report.state == OrderState.CANCELLED
    plain, algo = client.named("fetch_order")
    assert plain == (None, "BTC/USDT:USDT", {"clientOrderId": "sl-1"})
    assert algo[2] == {"clientOrderId": "sl-1", "trigger": True}


async def test_binance_stop_uses_stop_loss_price_on_mark() -> None:
    client = ScriptedClient(create_order=[{"id": "a-1"}])
    stop = intent(side=Side.BUY, kind=OrderKind.STOP_MARKET, trigger_price=D(65000))
    await exchange(client, BINANCE).create_order(stop)
    params = client.named("create_order")[0][5]
    assert params["stopLossPrice"] == 65000.0 and params["workingType"] == "MARK_PRICE"
    assert "triggerDirection" not in params and params["reduceOnly"] is True


async def test_binance_cancel_falls_back_to_the_algo_service() -> None:
    client = ScriptedClient(cancel_order=[ccxt_errors.OrderNotFound("-2011"), {"id": "a-1"}])
    assert await exchange(client, BINANCE).cancel_order("BTC/USDT:USDT", "sl-1") is True
    assert client.named("cancel_order")[1][2] == {"clientOrderId": "sl-1", "trigger": True}


async def test_binance_fills_are_read_per_traded_symbol() -> None:
    trade = {
        "id": "t1",
        "order": "o1",
        "symbol": "BTC/USDT:USDT",
        "side": "sell",
        "amount": 0.01,
        "price": 60000.0,
        "timestamp": 1760000000000,
        "fee": {"cost": 0.01, "currency": "USDT"},
        "info": {"qty": "0.010", "price": "60000.10", "commission": "0.0120"},
    }
    client = ScriptedClient(
        fetch_positions=[[{"symbol": "BTC/USDT:USDT", "side": "short", "contracts": 0.01}]],
        fetch_my_trades=[[trade]],
    )
    port = exchange(client, BINANCE, kinds=frozenset({MarketKind.PERP}))
    assert await port.fetch_fills(None, None) == []  # nothing traded or held yet: no request
    await port.fetch_positions()
    (fill,) = await port.fetch_fills(None, None)
    assert (fill.qty, fill.price, fill.fee) == (D("0.010"), D("60000.10"), D("0.0120"))
    assert client.named("fetch_my_trades")[0][0] == "BTC/USDT:USDT"


async def test_repr_hides_credentials() -> None:
    text = repr(exchange(ScriptedClient()))
    assert "KEY-abcdef" not in text and "SECRET" not in text and "bybit" in text


async def test_rejected_timestamp_on_create_resyncs_without_resending() -> None:
    client = ScriptedClient(create_order=[ccxt_errors.InvalidNonce('bybit {"retCode":10002}')])
    with pytest.raises(TransientError):
        await exchange(client).create_order(intent())
    assert len(client.named("create_order")) == 1
    assert len(client.named("load_time_difference")) == 1
    assert client.named("fetch_open_orders") == []  # refused before processing: no lookup
