"""The venue model: a deterministic, synchronous, in-memory Bybit-like unified trading account.

One matching logic for every front (the Bybit HTTP server and the in-process port). There is no
wall clock here: time moves only through ``advance_to``, which walks every feed price change and
funding settlement in between, in order. At each such instant: prices update, trigger orders whose
condition holds fire, crossed resting limits fill, an account below maintenance margin is
liquidated, and on 00:00/08:00/16:00 UTC funding settles (positive rate: longs pay shorts).
Rejections raise ``VenueError`` with Bybit's retCode and message.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from bot.sim.account import Account, q8
from bot.sim.bars import settlements_between
from bot.sim.book import OrderBook
from bot.sim.errors import (
    LEVERAGE_NOT_MODIFIED,
    ORDER_NOT_FOUND,
    VenueError,
    params_error,
)
from bot.sim.feed_base import PriceFeed
from bot.sim.market_data import MarketData
from bot.sim.markets import VenueConfig
from bot.sim.matching import Matching
from bot.sim.model import (
    CANCELLED,
    DEACTIVATED,
    NEW,
    UNTRIGGERED,
    Ids,
    Liquidation,
    OrderRequest,
    SimOrder,
)
from bot.sim.pinned import PinnedFeed
from bot.sim.rules import (
    check_identity,
    check_min_notional,
    check_prices,
    check_quantity,
    check_reduce_only,
)
from bot.sim.venue_queries import VenueQueries

ZERO = Decimal(0)


# A script run as the clock moves (a scenario): given (now, target), the next time in
# (now, target] at which it acts and the action to run then, or None.
Script = Callable[[datetime, datetime], "tuple[datetime, Callable[[Venue], None]] | None"]


class Venue(Matching, VenueQueries):
    feed: PinnedFeed

    def __init__(self, feed: PriceFeed, start: datetime, config: VenueConfig | None = None) -> None:
        self.feed = PinnedFeed(feed)
        self.config = config or VenueConfig.for_bases(feed.bases)
        self.now = start
        self.market = MarketData(self.feed, self.config)
        self.market.update(start)
        self.account = Account(self.config, self.market)
        self.book = OrderBook()
        self.ids = Ids()
        self.liquidations: list[Liquidation] = []
        self.margin_mode = "REGULAR_MARGIN"
        self._partial: list[tuple[str | None, Decimal]] = []
        self.script: Script | None = None

    # ---- clock --------------------------------------------------------------------------------
    def advance_to(self, t: datetime) -> None:
        """Move the clock to ``t``, stopping on the way wherever the script acts."""
        if t < self.now:
            raise ValueError(f"the venue clock cannot go back from {self.now} to {t}")
        while self.script is not None:
            due = self.script(self.now, t)
            if due is None:
                break
            at, action = due
            self._walk_to(max(at, self.now))
            action(self)
        self._walk_to(t)

    def _walk_to(self, t: datetime) -> None:
        settlements = {
            at
            for step in {m.funding_interval for m in self.config.markets if m.category == "linear"}
            for at in settlements_between(self.now, t, step)
        }
        for at in sorted(settlements.union(self.feed.change_times(self.now, t))):
            self.market.update(at)
            self.now = at
            self._fire_triggers()
            self._match_limits()
            self._check_liquidation()
            if at in settlements:
                self._settle_funding(at)
        self.now = t

    # ---- requests -----------------------------------------------------------------------------
    def place_order(self, req: OrderRequest) -> SimOrder:
        spec = self.config.market(req.category, req.symbol)
        req = self._normalise(req, spec)
        check_identity(req, self.book.has_link(req.link_id))
        check_quantity(req, spec)
        conditional = req.trigger_price is not None
        direction = req.trigger_direction
        if conditional and direction is None:
            current = self.market.trigger_price_of(spec, req.trigger_by)
            direction = 1 if req.trigger_price > current else 2  # type: ignore[operator]
        check_prices(req, spec, self.market.trigger_price_of(spec, req.trigger_by))
        if spec.category == "linear":
            check_reduce_only(req, self.account.positions[spec.symbol].size)
        price = req.price or req.trigger_price or self.market.market_fill_price(spec, req.side)
        check_min_notional(req, spec, price)
        if not conditional:
            self._check_funds(spec, req.side, req.qty, price, req.reduce_only)
        order_id, seq = self.ids.order()
        order = SimOrder(
            order_id=order_id,
            seq=seq,
            # like Bybit, a spot order sent without a client id gets a numeric one
            link_id=req.link_id or (str(int(order_id) + 1) if spec.category == "spot" else ""),
            category=spec.category,
            symbol=spec.symbol,
            side=req.side,
            order_type=req.order_type,
            qty=req.qty,
            price=req.price if req.order_type == "Limit" else None,
            time_in_force=req.time_in_force or ("IOC" if req.order_type == "Market" else "GTC"),
            reduce_only=req.reduce_only,
            status=UNTRIGGERED if conditional else NEW,
            created=self.now,
            updated=self.now,
            trigger_price=req.trigger_price,
            trigger_direction=direction,
            trigger_by=req.trigger_by if conditional else "",
            close_on_trigger=req.close_on_trigger,
            is_conditional=conditional,
        )
        self.book.add(order)
        if not conditional:
            self._execute(order, spec)
        return copy.copy(order)

    def cancel_order(
        self, category: str, symbol: str, order_id: str | None = None, link_id: str | None = None
    ) -> SimOrder:
        if not order_id and not link_id:
            raise params_error("orderId or orderLinkId is required")
        order = self.book.find(order_id, link_id)
        if (
            order is None
            or order.category != category
            or order.symbol != symbol
            or not order.is_open
        ):
            raise VenueError(ORDER_NOT_FOUND, "order not exists or too late to cancel")
        self._close(
            order, DEACTIVATED if order.status == UNTRIGGERED else CANCELLED, "EC_PerCancelRequest"
        )
        return copy.copy(order)

    def cancel_all(self, category: str, symbol: str | None = None) -> list[SimOrder]:
        done = []
        for o in self.book.open_orders():
            if o.category == category and symbol in (None, o.symbol):
                done.append(self.cancel_order(category, o.symbol, order_id=o.order_id))
        return done

    def set_leverage(self, symbol: str, buy: Decimal, sell: Decimal | None = None) -> None:
        spec = self.config.market("linear", symbol)
        if sell is not None and sell != buy:
            raise params_error("buyLeverage must equal sellLeverage in one-way mode")
        if not Decimal(1) <= buy <= spec.max_leverage:
            raise params_error(f"leverage must be between 1 and {spec.max_leverage}")
        pos = self.account.positions[symbol]
        if pos.leverage == buy:
            raise VenueError(LEVERAGE_NOT_MODIFIED, "leverage not modified")
        pos.leverage = buy

    def set_margin_mode(self, mode: str) -> None:
        if mode not in ("REGULAR_MARGIN", "ISOLATED_MARGIN", "PORTFOLIO_MARGIN"):
            raise params_error(f"setMarginMode {mode!r} invalid")
        self.margin_mode = mode  # recorded only: the model always margins across the account

    def queue_partial_fill(self, ratio: Decimal, symbol: str | None = None) -> None:
        """The next immediate fill (of ``symbol``, or any) executes only ``ratio`` of its qty."""
        if not ZERO < ratio < 1:
            raise ValueError("ratio must be between 0 and 1")
        self._partial.append((symbol, ratio))

    def deposit(self, coin: str, amount: Decimal) -> None:
        self.account.credit(coin, amount)

    # ---- scenario control (the /sim routes) ---------------------------------------------------
    def set_price(self, coin: str, price: Decimal, basis: Decimal | None = None) -> None:
        """Move spot/index (to ``price``), perp and mark (times 1 + basis) of ``coin`` now; the
        feed continues from there. Triggers, limits and liquidation react at once."""
        if coin not in self.feed.bases:
            raise params_error(f"coin {coin!r} is not priced by this simulator")
        if price <= 0 or (basis is not None and basis <= -1):
            raise params_error("price must be positive and basis above -1")
        self.feed.set_price(self.now, coin, price, basis)
        self.market.update(self.now)
        self._fire_triggers()
        self._match_limits()
        self._check_liquidation()

    def set_wallet(self, coin: str, amount: Decimal) -> None:
        """A deposit or withdrawal made outside the bot: the balance becomes ``amount``."""
        if amount < 0:
            raise params_error("amount must not be negative")
        if amount:
            self.account.wallet[coin] = q8(amount)
        else:
            self.account.wallet.pop(coin, None)  # Bybit lists no row for an empty coin
        self._check_liquidation()
