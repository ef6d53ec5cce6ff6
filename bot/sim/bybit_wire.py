"""Rendering of venue records as Bybit v5 JSON rows (shapes copied from recorded Bybit answers:
numbers as strings, times as millisecond strings, "" for absent values)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain import Bar
from bot.sim.account import CoinRow, PositionRow, WalletReport
from bot.sim.bars import to_ms
from bot.sim.market_data import TickerRow
from bot.sim.markets import MarketSpec
from bot.sim.model import Execution, SimOrder

Row = dict[str, Any]


def num(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def ms(at: datetime | None) -> str:
    return str(to_ms(at)) if at is not None else ""


def instrument(spec: MarketSpec) -> Row:
    if spec.category == "spot":
        return {
            "symbol": spec.symbol,
            "baseCoin": spec.base,
            "quoteCoin": spec.quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "lotSizeFilter": {
                "basePrecision": num(spec.qty_step),
                "quotePrecision": "0.00000001",
                "minOrderQty": num(spec.min_qty),
                "maxOrderQty": num(spec.max_qty),
                "minOrderAmt": num(spec.min_notional),
                "maxOrderAmt": "8000000",
            },
            "priceFilter": {"tickSize": num(spec.tick)},
        }
    return {
        "symbol": spec.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": spec.base,
        "quoteCoin": spec.quote,
        "launchTime": str(spec.launch_ms),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(max(0, -spec.tick.as_tuple().exponent)),  # type: ignore[operator]
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": num(spec.max_leverage),
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": num(spec.tick),
            "maxPrice": "1999999.80",
            "tickSize": num(spec.tick),
        },
        "lotSizeFilter": {
            "maxOrderQty": num(spec.max_qty),
            "minOrderQty": num(spec.min_qty),
            "qtyStep": num(spec.qty_step),
            "postOnlyMaxOrderQty": num(spec.max_qty),
            "maxMktOrderQty": num(spec.max_qty),
            "minNotionalValue": num(spec.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": spec.funding_minutes,
        "settleCoin": spec.settle,
        "copyTrading": "none",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
    }


def ticker(row: TickerRow) -> Row:
    pct = (row.last - row.prev_24h) / row.prev_24h if row.prev_24h else Decimal(0)
    out: Row = {
        "symbol": row.spec.symbol,
        "bid1Price": num(row.bid),
        "bid1Size": "1",
        "ask1Price": num(row.ask),
        "ask1Size": "1",
        "lastPrice": num(row.last),
        "prevPrice24h": num(row.prev_24h),
        "price24hPcnt": num(pct.quantize(Decimal("0.000001"))),
        "highPrice24h": num(row.high_24h),
        "lowPrice24h": num(row.low_24h),
        "turnover24h": num(row.turnover_24h),
        "volume24h": num(row.volume_24h),
    }
    if row.spec.category == "linear":
        out.update(
            {
                "indexPrice": num(row.index),
                "markPrice": num(row.mark),
                "prevPrice1h": num(row.last),
                "openInterest": "0",
                "openInterestValue": "0",
                "fundingRate": num(row.funding_rate),  # a forecast (market_data.py)
                "nextFundingTime": ms(row.next_funding),
                "fundingIntervalHour": str(row.spec.funding_minutes // 60),
                "fundingCap": "0.005",
                "predictedDeliveryPrice": "",
                "basisRate": "",
                "deliveryFeeRate": "",
                "deliveryTime": "0",
                "basis": "",
            }
        )
    else:
        out["usdIndexPrice"] = num(row.index)
    return out


def coin(row: CoinRow) -> Row:
    return {
        "coin": row.coin,
        "equity": num(row.equity),
        "usdValue": num(row.usd_value),
        "walletBalance": num(row.wallet_balance),
        "locked": num(row.locked),
        "spotHedgingQty": "0",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": num(row.order_im),
        "totalPositionIM": num(row.position_im),
        "totalPositionMM": "0",
        "unrealisedPnl": num(row.unrealised),
        "cumRealisedPnl": num(row.cum_realised),
        "bonus": "0",
        "collateralSwitch": True,
        "marginCollateral": True,
        # Bybit deprecated this field and now sends "": ccxt then derives free from the IMs
        "availableToWithdraw": "",
        "availableToBorrow": "",
    }


def wallet(report: WalletReport) -> Row:
    equity = report.total_equity
    return {
        "accountType": "UNIFIED",
        "totalEquity": num(equity),
        "totalWalletBalance": num(report.total_wallet_balance),
        "totalMarginBalance": num(report.total_margin_balance),
        "totalAvailableBalance": num(report.total_available),
        "totalPerpUPL": num(report.total_unrealised),
        "totalInitialMargin": num(report.total_initial_margin),
        "totalMaintenanceMargin": num(report.total_maintenance_margin),
        # Bybit's account IM/MM rates divide by the margin balance (coins at collateral value)
        "accountIMRate": _rate(report.total_initial_margin, report.total_margin_balance),
        "accountMMRate": _rate(report.total_maintenance_margin, report.total_margin_balance),
        "accountLTV": "0",
        "coin": [coin(c) for c in report.coins],
    }


def _rate(margin: Decimal, balance: Decimal) -> str:
    return num((margin / balance).quantize(Decimal("0.0001"))) if balance > 0 else "0"


def position(row: PositionRow) -> Row:
    flat = not row.size
    return {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": row.spec.symbol,
        "side": "" if flat else ("Buy" if row.size > 0 else "Sell"),
        "size": num(abs(row.size)),
        "avgPrice": num(row.entry),
        "positionValue": "" if flat else num(row.value),
        "tradeMode": 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": num(row.leverage),
        "markPrice": num(row.mark),
        "liqPrice": num(row.liquidation_price),
        "bustPrice": "",
        "positionIM": num(row.initial_margin),
        "positionMM": num(row.maintenance_margin),
        "positionBalance": num(row.initial_margin),
        "takeProfit": "",
        "stopLoss": "",
        "trailingStop": "0",
        "unrealisedPnl": "" if flat else num(row.unrealised),
        "curRealisedPnl": num(row.cur_realised),
        "cumRealisedPnl": num(row.cum_realised),
        "adlRankIndicator": 0 if flat else 2,
        "isReduceOnly": False,
        "createdTime": ms(row.created) or "0",
        "updatedTime": ms(row.updated) or "0",
        "seq": -1,
    }


def order(o: SimOrder) -> Row:
    return {
        "orderId": o.order_id,
        "orderLinkId": o.link_id,
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": num(o.price) if o.price is not None else "0",
        "qty": num(o.qty),
        "side": o.side,
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": o.status,
        "createType": "CreateByUser",
        "cancelType": "CancelByUser" if o.reject_reason == "EC_PerCancelRequest" else "UNKNOWN",
        "rejectReason": o.reject_reason,
        "avgPrice": num(o.avg_price) if o.cum_qty else "",
        "leavesQty": num(o.leaves),
        "leavesValue": num(o.leaves * (o.price or Decimal(0))),
        "cumExecQty": num(o.cum_qty),
        "cumExecValue": num(o.cum_value),
        "cumExecFee": num(o.cum_fee),
        "timeInForce": o.time_in_force,
        "orderType": o.order_type,
        "stopOrderType": "Stop" if o.is_conditional else "",
        "orderIv": "",
        "marketUnit": "baseCoin" if o.category == "spot" and o.order_type == "Market" else "",
        "triggerPrice": num(o.trigger_price),
        "takeProfit": "",
        "stopLoss": "",
        "tpslMode": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": o.trigger_direction or 0,
        "triggerBy": o.trigger_by,
        "lastPriceOnCreated": "",
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": o.close_on_trigger,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "createdTime": ms(o.created),
        "updatedTime": ms(o.updated),
    }


def execution(e: Execution) -> Row:
    return {
        "symbol": e.symbol,
        "orderId": e.order_id,
        "orderLinkId": e.link_id,
        "side": e.side,
        "orderPrice": num(e.order_price),
        "orderQty": num(e.order_qty),
        "leavesQty": num(e.leaves_qty),
        "createType": "CreateByUser" if e.exec_type == "Trade" else "",
        "orderType": e.order_type or "UNKNOWN",
        "stopOrderType": "UNKNOWN",
        "execFee": num(e.fee),
        "execId": e.exec_id,
        "execPrice": num(e.price),
        "execQty": num(e.qty),
        "execType": e.exec_type,
        "execValue": num(e.value),
        "execTime": ms(e.time),
        # spot: the coin received (base for a buy, quote for a sell); "" for perps as recorded
        "feeCurrency": e.fee_currency if e.category == "spot" else "",
        "feeCoin": e.fee_currency,
        "isMaker": e.is_maker,
        "feeRate": num(e.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": num(e.mark_price) if e.category == "linear" else "",
        "indexPrice": "",
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": num(e.closed_size) if e.category == "linear" else "",
        "seq": e.seq,
        "marketUnit": "",
    }


def kline(bar: Bar) -> list[str]:
    return [
        ms(bar.ts),
        num(bar.open),
        num(bar.high),
        num(bar.low),
        num(bar.close),
        num(bar.volume),
        num((bar.volume * bar.close).quantize(Decimal("0.0001"))),
    ]
