"""Port parity: the same scripted session through InProcessExchange (the venue called directly)
and through the ccxt adapter over the Bybit HTTP simulator yields the same domain answers.
Both ports wrap one venue model each, driven identically, so every number must agree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal as D
from typing import Any

from pydantic import SecretStr

from bot.domain import IntentPurpose, OrderIntent, OrderKind, Side
from bot.errors import ExchangeError
from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.inprocess import InProcessExchange
from bot.exchange.port import ExchangePort
from bot.sim.manual import ManualFeed
from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, start_simulator
from bot.sim.venue import Venue
from tests.fixtures.sim.harness import PERP, SPOT, T0
from tests.integration.http_rig import serve

ETH = "ETH/USDT:USDT"


def feed() -> ManualFeed:
    f = ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))
    f.set(T0 + timedelta(hours=3), "BTC", 61000)
    f.set(T0 + timedelta(hours=5), "BTC", mark=69500)
    return f


async def session(port: ExchangePort, venue: Venue) -> dict[str, Any]:
    """The bot's calls, in a fixed order, with the clock moved between them."""
    out: dict[str, Any] = {}
    await port.set_leverage(PERP, D(3))
    await port.set_leverage(PERP, D(3))
    out["ack"] = await port.create_order(OrderIntent("h-1", "btc", 1, PERP, Side.SELL, D("0.5")))
    await port.create_order(OrderIntent("e-1", "eth", 1, ETH, Side.SELL, D("2.5")))
    await port.create_order(OrderIntent("s-1", "btc", 1, SPOT, Side.BUY, D("0.1")))
    stop = OrderIntent(
        "sl-1", "btc", 1, PERP, Side.BUY, D("0.5"), kind=OrderKind.STOP_MARKET,
        reduce_only=True, purpose=IntentPurpose.STOP, trigger_price=D(69000),
    )  # fmt: skip
    await port.create_order(stop)
    limit = OrderIntent(
        "l-1", "eth", 1, ETH, Side.SELL, D("1"), kind=OrderKind.LIMIT, price=D(3500)
    )
    await port.create_order(limit)
    out["open"] = sorted(await port.fetch_open_orders(None), key=lambda o: o.venue_order_id)
    out["positions"] = await port.fetch_positions()
    out["balances"] = await port.fetch_balances()
    venue.advance_to(T0 + timedelta(hours=4))  # 08:00 settlement, BTC at 61000
    out["positions_later"] = await port.fetch_positions()
    venue.advance_to(T0 + timedelta(hours=6))  # the stop fires at 12:00
    out["stop"] = await port.fetch_order(PERP, "sl-1")
    out["cancel"] = (await port.cancel_order(ETH, "l-1"), await port.cancel_order(ETH, "l-1"))
    out["unknown"] = await port.fetch_order(PERP, "never")
    out["fills"] = await port.fetch_fills(None, None)
    out["spot_fills"] = await port.fetch_fills(SPOT, None)
    out["funding"] = await port.fetch_funding_payments(None, None)
    out["rates"] = await port.fetch_funding_rates([PERP, ETH])
    tickers = await port.fetch_tickers([PERP, SPOT])
    out["tickers"] = tickers  # stamped with the venue's time on both (issue 7.7)
    out["bars"] = await port.fetch_ohlcv(PERP, "1h", T0 - timedelta(hours=2), 5)
    out["rate_history"] = await port.fetch_funding_rate_history(PERP, T0 - timedelta(days=1), 3)
    out["markets"] = await port.load_markets()
    return out


async def test_inprocess_and_ccxt_over_http_agree() -> None:
    direct_venue = Venue(feed(), T0)
    direct = await session(InProcessExchange(direct_venue), direct_venue)

    sim = await start_simulator(feed=feed(), start=T0)
    port = create_exchange(
        VenueConnection(
            venue="bybit",
            mode="paper",
            api_key=SecretStr(DEFAULT_API_KEY),
            api_secret=SecretStr(DEFAULT_API_SECRET),
            url=sim.url,
            enable_rate_limit=False,
        )
    )
    try:
        remote = await session(port, sim.venue)
    finally:
        await port.close()
        await sim.stop()

    assert direct["stop"].state.value == "closed" and len(direct["funding"]) == 2
    assert direct["cancel"] == (True, False) and direct["unknown"] is None
    mismatched = [key for key in direct if direct[key] != remote[key]]
    details = {key: (direct[key], remote[key]) for key in mismatched}
    assert mismatched == [], details


Script = Callable[[ExchangePort, Venue], Awaitable[dict[str, Any]]]


async def on_both(script: Script, make_feed: Callable[[], ManualFeed]) -> tuple[dict, dict]:
    """Run ``script`` on a venue called in-process and on an identical one over ccxt + HTTP."""
    direct_venue = Venue(make_feed(), T0)
    direct = await script(InProcessExchange(direct_venue), direct_venue)
    sim, port = await serve(Venue(make_feed(), T0))
    try:
        remote = await script(port, sim.venue)
    finally:
        await port.close()
        await sim.stop()
    return direct, remote


def _short(value: Any) -> Any:
    return f"{len(value)} rows" if isinstance(value, list) and len(value) > 3 else value


def assert_alike(direct: dict, remote: dict) -> None:
    """Every answer equal; a mismatch is shown as (in-process, over HTTP)."""
    mismatched = {
        k: (_short(direct[k]), _short(remote[k])) for k in direct if direct[k] != remote[k]
    }
    assert not mismatched, mismatched


def answer(result: Any) -> Any:
    """An error as its class and venue code (messages differ in wording across fronts)."""
    if isinstance(result, ExchangeError):
        return (type(result).__name__, result.code)
    return result


async def call(coro: Awaitable[Any]) -> Any:
    try:
        return answer(await coro)
    except ExchangeError as exc:
        return answer(exc)


def flat_feed() -> ManualFeed:
    return ManualFeed({"BTC": 60000, "ETH": 3000}, start=T0 - timedelta(days=3))


async def ten_days_of_trading(port: ExchangePort, venue: Venue) -> dict[str, datetime]:
    """A BTC and an ETH short opened at T0, then a small trade every 2 days for 10 days: fills
    spread over more than Bybit's 7-day history window, and 31 funding settlements per perp."""
    times = {}
    await port.create_order(OrderIntent("w-0", "btc", 1, PERP, Side.SELL, D("0.5")))
    await port.create_order(OrderIntent("we-0", "eth", 1, ETH, Side.SELL, D("5")))
    times["open"] = venue.now
    for n in range(1, 6):
        venue.advance_to(venue.now + timedelta(days=2))
        side = Side.SELL if n % 2 else Side.BUY
        await port.create_order(OrderIntent(f"w-{n}", "btc", 1 + n, PERP, side, D("0.1")))
        times[f"trade{n}"] = venue.now
    venue.advance_to(venue.now + timedelta(hours=1))
    return times


async def windows(port: ExchangePort, venue: Venue) -> dict[str, Any]:
    """Fills and funding read over time ranges, as the bot's cursors read them."""
    times = await ten_days_of_trading(port, venue)
    now = venue.now
    out: dict[str, Any] = {"span": now - times["open"]}
    starts = {
        "none": None,
        "first_fill": times["open"],  # inclusive, and more than 7 days ago
        "8d_ago": now - timedelta(days=8),
        "6d_ago": now - timedelta(days=6),
        "at_a_fill": times["trade4"],  # inclusive
        "after_all": now,
    }
    for name, since in starts.items():
        out[f"fills {name}"] = await call(port.fetch_fills(None, since))
        out[f"btc fills {name}"] = await call(port.fetch_fills(PERP, since))
        out[f"funding {name}"] = await call(port.fetch_funding_payments(None, since))
        out[f"eth funding {name}"] = await call(port.fetch_funding_payments(ETH, since))
    return out


async def test_fills_and_funding_over_time_ranges_agree() -> None:
    direct, remote = await on_both(windows, flat_feed)
    assert direct["span"] > timedelta(days=10)  # wider than a venue's 7-day answer
    assert_alike(direct, remote)


async def duplicates(port: ExchangePort, venue: Venue) -> dict[str, Any]:
    """A client id sent twice: the same order again, another order, and after a cancel."""
    out: dict[str, Any] = {}
    first = OrderIntent("d-1", "btc", 1, PERP, Side.SELL, D("0.5"))
    out["first"] = await call(port.create_order(first))
    out["same again"] = await call(port.create_order(first))
    other = OrderIntent("d-1", "btc", 2, PERP, Side.BUY, D("0.2"), reduce_only=True)
    out["other order, same id"] = await call(port.create_order(other))
    limit = OrderIntent("d-2", "btc", 3, PERP, Side.SELL, D("0.1"), kind=OrderKind.LIMIT,
                        price=D(70000))  # fmt: skip
    await port.create_order(limit)
    await port.cancel_order(PERP, "d-2")
    out["after cancel"] = await call(port.create_order(limit))
    out["positions"] = await port.fetch_positions()
    out["orders"] = [await port.fetch_order(PERP, cid) for cid in ("d-1", "d-2")]
    return out


async def test_a_duplicate_client_id_is_answered_alike() -> None:
    direct, remote = await on_both(duplicates, flat_feed)
    assert direct["positions"][PERP].size == D("-0.5")  # never a second order under one id
    assert_alike(direct, remote)


async def ticker_times(port: ExchangePort, venue: Venue) -> dict[str, Any]:
    """The time each ticker row is stamped with: what the staleness guard judges."""
    out = {}
    for step in range(3):
        venue.advance_to(venue.now + timedelta(minutes=7 * step + 1))
        rows = await port.fetch_tickers([PERP, SPOT, ETH])
        out[f"at {venue.now:%H:%M}"] = {symbol: t.ts for symbol, t in rows.items()}
    return out


async def test_ticker_timestamps_agree() -> None:
    direct, remote = await on_both(ticker_times, flat_feed)
    assert direct["at 07:01"][PERP] == T0 + timedelta(minutes=1)
    assert_alike(direct, remote)
