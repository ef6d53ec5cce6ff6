"""Per-venue quirks, kept small and declarative. See /work/shared/design/EXCHANGE-PROTOCOL.md.

A profile says which ccxt classes serve spot and perps, the lean constructor options, how testnet
is reached, how an order is found by its client id, which error codes mean "nothing to change",
and the sign convention of funding payments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.errors import ConfigError


def _frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(data))


@dataclass(frozen=True, slots=True)
class VenueProfile:
    name: str
    spot_class: str  # ccxt.async_support class name of the spot client
    perp_class: str  # ... and of the linear perp client (the same name: one unified account)
    # constructor config per client class (deep-copied before use by the factory)
    config: Mapping[str, Mapping[str, Any]]
    testnet: str  # "sandbox": set_sandbox_mode(True); "demo": enable_demo_trading(True)
    settle: str = "USDT"
    # params that put a lookup or listing on conditional (trigger/stop) orders
    trigger_params: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    # stop-loss: the ccxt param carrying the trigger price, whether to send triggerDirection,
    # and extra params (trigger on the mark price, not the last trade)
    stop_price_param: str = "triggerPrice"
    stop_with_direction: bool = True
    stop_params: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    # True: cancelling a conditional order needs the trigger params (a separate id space)
    trigger_cancel_separate: bool = False
    # the params key that carries our client id on fetch/cancel (ccxt maps it only on create)
    client_id_param: str = "clientOrderId"
    # True: a plain listing already includes untriggered conditional orders
    listing_includes_triggers: bool = False
    # True: fetch_order(None, symbol, {client id}) works; False: list open/closed by client id
    fetch_order_by_client_id: bool = False
    # True: a funding payment's venue amount is positive when we PAID it (domain: received)
    funding_paid_positive: bool = False
    # the raw ``info`` field holding the funding amount, read losslessly when present
    funding_info_field: str = "income"
    # venue codes meaning "leverage already at that value": set_leverage treats them as success
    leverage_unchanged_codes: frozenset[str] = frozenset()
    # True: one tickers request per category returns every symbol, so ask for all of them
    tickers_all_per_category: bool = False
    # True: the perp ticker lacks bid/ask/mark; use the book ticker and the premium index
    perp_ticker_needs_book: bool = False
    # True: funding rates come inside the perp tickers (no extra request)
    funding_in_tickers: bool = False
    # the implicit ccxt method of the tickers endpoint, when its rows carry no time but the
    # answer's envelope does (Bybit v5 ``time``): each row is stamped with it before ccxt parses
    # it, so the staleness guard has a time to judge (EXCHANGE-PROTOCOL: tickers)
    tickers_raw_method: str | None = None
    # True: executions can only be read per symbol
    fills_need_symbol: bool = False
    # True: positions come in pages with a cursor (``cursor`` param, ``nextPageCursor`` back)
    cursor_pages: bool = False
    # params that make a symbol-less listing (positions, open orders) cover every linear perp
    perp_listing_params: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    # orders per batch request by category ("linear", "spot"); absent: one request per order
    batch_sizes: Mapping[str, int] = field(default_factory=lambda: _frozen({}))
    # True: a resting stop-loss is moved in place (new qty and trigger, same ids)
    amend_stops: bool = False

    @property
    def unified(self) -> bool:
        """One client (one account and wallet) serves both spot and perps."""
        return self.spot_class == self.perp_class


BYBIT = VenueProfile(
    name="bybit",
    spot_class="bybit",
    perp_class="bybit",
    config=_frozen(
        {
            "bybit": {
                # lean load_markets: 3 requests instead of 12 (EXCHANGE-PROTOCOL §2.1)
                "has": {"fetchCurrencies": False},
                "options": {
                    "defaultType": "swap",
                    "defaultSubType": "linear",
                    "defaultSettle": "USDT",
                    "fetchMarkets": {"types": ["spot", "linear"]},
                    "enableUnifiedAccount": True,
                    "enableUnifiedMargin": False,
                },
            }
        }
    ),
    testnet="sandbox",
    trigger_params=_frozen({"orderFilter": "StopOrder"}),
    stop_params=_frozen({"triggerBy": "MarkPrice"}),
    client_id_param="orderLinkId",
    # GET /v5/order/realtime (and /history) without orderFilter: "classic account spot: return
    # Order active order by default; Others: all kinds of orders by default" (Bybit v5 docs), so
    # one listing of linear orders by settle coin holds our conditional stops too
    listing_includes_triggers=True,
    fetch_order_by_client_id=False,
    funding_paid_positive=True,  # execFee > 0 means we paid (EXCHANGE-PROTOCOL §3.3, §7.9)
    funding_info_field="execFee",
    leverage_unchanged_codes=frozenset({"110043"}),
    tickers_all_per_category=True,
    funding_in_tickers=True,
    tickers_raw_method="publicGetV5MarketTickers",
    cursor_pages=True,
    perp_listing_params=_frozen({"settleCoin": "USDT"}),
    # Bybit takes 20 linear or 10 spot orders per batch, but its windows allow 10 linear and
    # 20 spot orders a second and count every order of a batch: a batch above 10 never fits
    batch_sizes=_frozen({"linear": 10, "spot": 10}),
    amend_stops=True,
)

BINANCE = VenueProfile(
    name="binance",
    spot_class="binance",
    perp_class="binanceusdm",
    config=_frozen(
        {
            "binance": {
                "options": {
                    "defaultType": "spot",  # 'swap' would silently turn BTC/USDT into the perp
                    "fetchMarkets": {"types": ["spot"]},
                    "fetchCurrencies": False,
                    "fetchMargins": False,
                    "fetchOpenOrders": {"warnWithoutSymbol": False},
                },
            },
            "binanceusdm": {
                "options": {
                    "fetchMarkets": {"types": ["linear"]},
                    "fetchCurrencies": False,
                    "fetchMargins": False,
                    "fetchOpenOrders": {"warnWithoutSymbol": False},
                },
            },
        }
    ),
    testnet="demo",
    trigger_params=_frozen({"trigger": True}),  # the Algo service: its own ids and endpoints
    stop_price_param="stopLossPrice",  # ccxt sends STOP_MARKET reduce-only to the Algo service
    stop_with_direction=False,
    stop_params=_frozen({"workingType": "MARK_PRICE"}),
    trigger_cancel_separate=True,
    client_id_param="clientOrderId",
    fetch_order_by_client_id=True,
    funding_paid_positive=False,  # income < 0 means we paid
    funding_info_field="income",
    perp_ticker_needs_book=True,
    fills_need_symbol=True,
)

PROFILES: Mapping[str, VenueProfile] = _frozen({p.name: p for p in (BYBIT, BINANCE)})


def venue_profile(name: str) -> VenueProfile:
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ConfigError([f"venue: unknown venue {name!r} (known: {known})"]) from None
