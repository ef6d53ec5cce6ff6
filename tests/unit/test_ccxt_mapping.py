"""ccxt unified structures (as ccxt 4.5.90 returns them for Bybit v5 and Binance) -> domain types."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from bot.domain import MarketInfo, MarketKind, OrderKind, OrderState, Side
from bot.exchange import ccxt_mapping as m
from bot.exchange import ccxt_order_mapping as om
from bot.exchange import ccxt_values as v

BTC_PERP = MarketInfo(
    symbol="BTC/USDT:USDT",
    venue_id="BTCUSDT",
    base="BTC",
    quote="USDT",
    kind=MarketKind.PERP,
    amount_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D(5),
    price_tick=D("0.1"),
    settle="USDT",
)
TEN_PER_CONTRACT = MarketInfo(
    symbol="PEPE/USDT:USDT",
    venue_id="PEPEUSDT",
    base="PEPE",
    quote="USDT",
    kind=MarketKind.PERP,
    amount_step=D(1),
    min_qty=D(1),
    min_notional=D(5),
    price_tick=D("0.0000001"),
    contract_size=D(10),
    settle="USDT",
)

LINEAR_ROW = {
    "symbol": "BTCUSDT",
    "contractType": "LinearPerpetual",
    "status": "Trading",
    "baseCoin": "BTC",
    "quoteCoin": "USDT",
    "settleCoin": "USDT",
    "fundingInterval": 480,
    "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
    "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
    "lotSizeFilter": {
        "maxOrderQty": "1190.000",
        "minOrderQty": "0.001",
        "qtyStep": "0.001",
        "minNotionalValue": "5",
    },
}


def ccxt_market(**over: object) -> dict:
    base = {
        "id": "BTCUSDT",
        "symbol": "BTC/USDT:USDT",
        "base": "BTC",
        "quote": "USDT",
        "settle": "USDT",
        "spot": False,
        "swap": True,
        "linear": True,
        "active": True,
        "contractSize": 1.0,
        "precision": {"amount": 0.001, "price": 0.1},
        "limits": {"amount": {"min": 0.001}, "cost": {"min": 5.0}, "leverage": {"max": 100.0}},
        "info": LINEAR_ROW,
    }
    base.update(over)
    return base


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.010", D("0.010")),
        (0.1, D("0.1")),  # through the float's shortest repr, not its binary expansion
        (5, D(5)),
        ("", None),
        (None, None),
        ("NaN", None),
        ("inf", None),
        ("abc", None),
        (True, None),
    ],
)
def test_dec(value: object, expected: D | None) -> None:
    assert v.dec(value) == expected


def test_linear_market_reads_raw_filters() -> None:
    info = m.to_market(ccxt_market())
    assert info is not None
    assert info.kind == MarketKind.PERP
    assert (info.amount_step, info.price_tick, info.min_qty) == (D("0.001"), D("0.10"), D("0.001"))
    assert info.min_notional == D(5)
    assert info.max_leverage == D("100.00")
    assert info.contract_size == D(1)
    assert info.settle == "USDT"
    assert m.interval_hours(ccxt_market()) == 8


def test_market_without_raw_filters_uses_unified_precision() -> None:
    info = m.to_market(ccxt_market(info={}, contractSize=10.0, id="PEPEUSDT"))
    assert info is not None
    assert info.amount_step == D("0.001")
    assert info.min_notional == D(5)
    assert info.contract_size == D(10)
    assert m.interval_hours(ccxt_market(info={})) == 8


def test_spot_market_and_excluded_kinds() -> None:
    spot = m.to_market(
        {
            "id": "BTCUSDT",
            "symbol": "BTC/USDT",
            "base": "BTC",
            "quote": "USDT",
            "spot": True,
            "precision": {"amount": 0.000001, "price": 0.01},
            "limits": {"amount": {"min": 0.000048}, "cost": {"min": 1.0}},
            "info": {
                "lotSizeFilter": {
                    "basePrecision": "0.000001",
                    "minOrderQty": "0.000048",
                    "minOrderAmt": "1",
                },
                "priceFilter": {"tickSize": "0.01"},
            },
        }
    )
    assert spot is not None
    assert spot.kind == MarketKind.SPOT
    assert (spot.amount_step, spot.min_qty, spot.min_notional) == (
        D("0.000001"),
        D("0.000048"),
        D(1),
    )
    assert spot.contract_size == D(1) and spot.settle is None
    assert m.to_market(ccxt_market(linear=False, inverse=True)) is None
    assert m.to_market(ccxt_market(swap=False, option=True)) is None
    assert m.to_market(ccxt_market(active=False)) is None


def test_bybit_unified_wallet_is_read_raw() -> None:
    balance = {
        "info": {
            "result": {
                "list": [
                    {
                        "accountType": "UNIFIED",
                        "coin": [
                            {
                                "coin": "USDT",
                                "walletBalance": "10000",
                                "locked": "100",
                                "totalPositionIM": "120.2",
                                "totalOrderIM": "0",
                            },
                            {"coin": "BTC", "walletBalance": "0.50000001", "locked": "0"},
                        ],
                    }
                ]
            }
        },
        "USDT": {"free": 9779.8, "used": 220.2, "total": 10000.0},
    }
    out = m.to_balances(balance)
    assert out["USDT"].total == D(10000)
    assert out["USDT"].used == D("220.2")
    assert out["USDT"].free == D("9779.8")
    assert out["BTC"].total == D("0.50000001")


def test_unified_balances_fallback() -> None:
    out = m.to_balances(
        {
            "info": {"balances": []},
            "free": {"BTC": 0.4, "ETH": None},
            "used": {"BTC": 0.1},
            "total": {"BTC": 0.5, "ETH": 2.0, "XRP": None},
        }
    )
    assert out["BTC"].free == D("0.4") and out["BTC"].total == D("0.5")
    assert out["ETH"].free == D("2.0") and out["ETH"].used == 0
    assert "XRP" not in out


def test_bybit_short_position_prefers_raw_strings() -> None:
    position = {
        "symbol": "BTC/USDT:USDT",
        "side": "short",
        "contracts": 0.009999999999,  # a float that lost digits; the raw string did not
        "entryPrice": 60000.0,
        "markPrice": 60100.0,
        "liquidationPrice": 120000.0,
        "info": {
            "symbol": "BTCUSDT",
            "side": "Sell",
            "size": "0.010",
            "avgPrice": "60000.123456789",
            "markPrice": "60100",
            "liqPrice": "120000",
            "positionIM": "120.2",
            "positionMM": "3",
            "unrealisedPnl": "-1",
            "leverage": "5",
        },
    }
    pos = m.to_position(position, BTC_PERP)
    assert pos.size == D("-0.010")
    assert pos.entry_price == D("60000.123456789")
    assert pos.liquidation_price == D(120000)
    assert (pos.unrealized_pnl, pos.leverage) == (D(-1), D(5))
    assert (pos.initial_margin, pos.maintenance_margin) == (D("120.2"), D(3))


def test_position_in_contracts_becomes_base_units_and_empty_liq_is_none() -> None:
    position = {"side": "short", "contracts": 3.0, "entryPrice": 0.00001, "info": {"liqPrice": ""}}
    pos = m.to_position(position, TEN_PER_CONTRACT)
    assert pos.size == D(-30)
    assert pos.liquidation_price is None
    long = m.to_position({"side": "long", "contracts": 2.0, "info": {}}, TEN_PER_CONTRACT)
    assert long.size == D(20)
    binance = m.to_position({"info": {"positionAmt": "-0.5"}}, BTC_PERP)
    assert binance.size == D("-0.5")


def test_ticker_and_funding_from_one_bybit_row() -> None:
    ticker = {
        "symbol": "BTC/USDT:USDT",
        "timestamp": None,
        "bid": 60049.9,
        "info": {
            "symbol": "BTCUSDT",
            "lastPrice": "60050.00",
            "bid1Price": "60049.90",
            "ask1Price": "60050.00",
            "markPrice": "60100.00",
            "indexPrice": "60090.00",
            "fundingRate": "0.0001",
            "nextFundingTime": "1760003600000",
        },
    }
    t = m.to_ticker(ticker, "BTC/USDT:USDT")
    assert (t.bid, t.ask, t.last, t.mark, t.index) == (
        D("60049.90"),
        D("60050.00"),
        D("60050.00"),
        D("60100.00"),
        D("60090.00"),
    )
    assert t.price == D("60100.00") and t.ts is None
    rate = m.funding_from_ticker(ticker, "BTC/USDT:USDT", 8)
    assert rate is not None
    assert rate.rate == D("0.0001")
    assert rate.next_funding_time == datetime.fromtimestamp(1760003600, tz=UTC)
    assert m.funding_from_ticker({"info": {}}, "X", 8) is None


@pytest.mark.parametrize(
    ("unified", "raw", "state"),
    [
        ("open", "New", OrderState.OPEN),
        ("open", "Untriggered", OrderState.OPEN),
        ("closed", "Filled", OrderState.CLOSED),
        ("canceled", "Cancelled", OrderState.CANCELLED),
        ("canceled", "Deactivated", OrderState.CANCELLED),
        ("closed", "PartiallyFilledCanceled", OrderState.CANCELLED),
        ("rejected", "Rejected", OrderState.REJECTED),
        ("expired", "", OrderState.CANCELLED),
        (None, "Triggered", OrderState.OPEN),
    ],
)
def test_order_state(unified: str | None, raw: str, state: OrderState) -> None:
    assert om.order_state({"status": unified, "info": {"orderStatus": raw}}) == state


UNTRIGGERED_STOP = {
    "id": "1321052653536515999",
    "clientOrderId": "sl-001",
    "symbol": "BTC/USDT:USDT",
    "type": "market",
    "side": "buy",
    "status": "open",
    "amount": 0.01,
    "filled": 0.0,
    "reduceOnly": True,
    "triggerPrice": 65000.0,
    "info": {
        "orderId": "1321052653536515999",
        "orderLinkId": "sl-001",
        "price": "0",
        "qty": "0.010",
        "leavesQty": "0.010",
        "cumExecQty": "0",
        "orderStatus": "Untriggered",
        "triggerPrice": "65000",
        "reduceOnly": True,
    },
}


def test_untriggered_stop_is_an_open_stop_market_order() -> None:
    order = om.to_open_order(UNTRIGGERED_STOP, BTC_PERP)
    assert order.kind == OrderKind.STOP_MARKET
    assert order.side == Side.BUY
    assert (order.qty, order.filled) == (D("0.010"), D(0))
    assert order.trigger_price == D(65000)
    assert order.price is None and order.reduce_only
    assert order.client_order_id == "sl-001"


def test_resting_limit_in_contracts() -> None:
    row = {
        "id": "7",
        "clientOrderId": None,
        "type": "limit",
        "side": "sell",
        "amount": 4.0,
        "filled": 1.0,
        "price": 0.0000123,
        "info": {"orderLinkId": "h-1"},
    }
    order = om.to_open_order(row, TEN_PER_CONTRACT)
    assert order.kind == OrderKind.LIMIT
    assert (order.qty, order.filled) == (D(40), D(10))
    assert order.price == D("0.0000123")
    assert order.client_order_id == "h-1"


def test_filled_market_order_report() -> None:
    row = {
        "id": "1",
        "clientOrderId": "hedge-001",
        "status": "closed",
        "amount": None,
        "filled": 0.01,
        "average": 60050.0,
        "info": {
            "orderStatus": "Filled",
            "qty": "0.010",
            "cumExecQty": "0.010",
            "avgPrice": "60050.5",
            "rejectReason": "EC_NoError",
        },
    }
    report = om.to_order_report(row, BTC_PERP)
    assert report.state == OrderState.CLOSED
    assert (report.qty, report.filled, report.average_price) == (
        D("0.010"),
        D("0.010"),
        D("60050.5"),
    )
    assert report.reason is None


def test_rejected_order_report_carries_reason_and_no_average() -> None:
    row = {
        "id": "2",
        "status": "rejected",
        "info": {"orderStatus": "Rejected", "qty": "1", "rejectReason": "EC_ReduceOnlyRule"},
    }
    report = om.to_order_report(row, BTC_PERP)
    assert report.state == OrderState.REJECTED
    assert report.reason == "EC_ReduceOnlyRule"
    assert report.average_price is None and report.filled == 0


def test_fill_uses_raw_exec_strings_and_fee_paid_positive() -> None:
    trade = {
        "id": "e0cb",
        "order": "1321",
        "symbol": "BTC/USDT:USDT",
        "side": "sell",
        "amount": 0.01,
        "price": 60050.0,
        "timestamp": 1760000000000,
        "fee": {"cost": 0.3603, "currency": "USDT"},
        "info": {
            "execId": "e0cb",
            "orderLinkId": "hedge-001",
            "execPrice": "60050.25",
            "execQty": "0.010",
            "execFee": "0.36030150",
            "feeCurrency": "",
        },
    }
    fill = om.to_fill(trade, BTC_PERP, "USDT")
    assert fill.trade_id == "e0cb" and fill.venue_order_id == "1321"
    assert fill.client_order_id == "hedge-001"
    assert (fill.side, fill.qty, fill.price) == (Side.SELL, D("0.010"), D("60050.25"))
    assert fill.fee == D("0.36030150") and fill.fee_asset == "USDT"
    assert fill.ts == datetime.fromtimestamp(1760000000, tz=UTC)


def test_bybit_funding_sign_is_negated_binance_kept() -> None:
    paid = {
        "id": "f1",
        "amount": 0.3,
        "timestamp": 1760000000000,
        "info": {"execFee": "0.30000001", "feeRate": "0.0001", "execQty": "0.5", "side": "Sell"},
    }
    payment = om.to_funding_payment(paid, BTC_PERP, amount_field="execFee", paid_positive=True)
    assert payment.amount == D("-0.30000001")  # we paid: negative in the domain
    assert payment.rate == D("0.0001")
    assert payment.position_size == D("-0.5")
    received = {"id": "t9", "amount": 1.25, "timestamp": 1, "info": {"income": "1.25"}}
    binance = om.to_funding_payment(received, BTC_PERP, amount_field="income", paid_positive=False)
    assert binance.amount == D("1.25") and binance.payment_id == "t9"


def test_bars_and_funding_history() -> None:
    bar = m.to_bar([1759999940000, 60000.0, 60100.5, 59900.0, 60050.0, 12.345])
    assert bar is not None
    assert (bar.open, bar.high, bar.volume) == (D("60000.0"), D("60100.5"), D("12.345"))
    assert m.to_bar([1, None, 1, 1, 1, 1]) is None
    rate = m.to_funding_history(
        {"fundingRate": 0.0001, "timestamp": 1759971200000, "info": {"fundingRate": "0.00010"}},
        "BTC/USDT:USDT",
        8,
    )
    assert rate is not None and rate.rate == D("0.00010")
    assert rate.next_funding_time == datetime.fromtimestamp(1759971200, tz=UTC)


def test_datetime_round_trip() -> None:
    ts = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert v.ms_to_datetime(v.datetime_to_ms(ts)) == ts
    assert v.datetime_to_ms(datetime(1970, 1, 1, 0, 0, 1)) == 1000  # naive means UTC


def test_milliseconds_are_exact() -> None:
    ts = v.ms_to_datetime("1760000000123")
    assert ts is not None and ts.microsecond == 123000
    assert v.datetime_to_ms(ts) == 1760000000123
