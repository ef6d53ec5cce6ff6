"""The unified trading account: one wallet of coins (spot holdings included) that also margins the
linear perp positions (one-way mode, cross margin).

Valuation, as Bybit documents it for a unified account in cross margin: equity = sum(wallet coin x
spot price) + perp unrealised PnL (no haircut); the margin balance counts each coin at its tiered
collateral value ratio (``VenueConfig.collateral_value``) instead. A position needs initial margin
|size| x mark / leverage and maintenance margin |size| x mark x mm_rate; the account is liquidated
when the margin balance falls below the total maintenance margin (account MM rate 100%).

Liquidation price: Bybit reports an *estimate* for cross positions ("the unified mode controls
the risk rate according to the account", /v5/position/list) and "" when it falls outside
[minPrice, maxPrice]. Here: the mark P at which the margin balance meets the maintenance margin,
holding everything else at current prices except the same coin held in the wallet, which moves
with the mark and counts at its collateral value ratio. With B the margin balance now, m the mark
now, s the signed size, c the collateral value of the base coin held in mark units (value / m), r
the maintenance rate and MMo the other positions' maintenance margin:

    B + (s + c) (P - m) = MMo + r |s| P   =>   P = (MMo - B + (s + c) m) / (s + c - r |s|)

None when flat, when no positive P solves it, or beyond the market's maxPrice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.sim.market_data import MarketData
from bot.sim.markets import MarketSpec, VenueConfig
from bot.sim.model import UNTRIGGERED, SimOrder

ZERO = Decimal(0)
CENT = Decimal("0.00000001")
SETTLE = "USDT"


def q8(value: Decimal) -> Decimal:
    return value.quantize(CENT)


@dataclass(slots=True)
class Position:
    spec: MarketSpec
    leverage: Decimal
    size: Decimal = ZERO  # signed base units; short negative
    entry: Decimal = ZERO
    cum_realised: Decimal = ZERO  # since the account exists, fees and funding included
    cur_realised: Decimal = ZERO  # since the position was opened
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class PositionRow:
    """A position valued at current prices."""

    spec: MarketSpec
    size: Decimal
    entry: Decimal
    mark: Decimal
    leverage: Decimal
    unrealised: Decimal
    cur_realised: Decimal
    cum_realised: Decimal
    value: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    liquidation_price: Decimal | None
    created: datetime | None
    updated: datetime | None


@dataclass(frozen=True, slots=True)
class CoinRow:
    coin: str
    wallet_balance: Decimal
    locked: Decimal
    position_im: Decimal
    order_im: Decimal
    equity: Decimal
    usd_value: Decimal
    unrealised: Decimal
    cum_realised: Decimal
    available_to_withdraw: Decimal


# (coin, wallet balance, locked, position IM, order IM): a CoinRow's funds, as the report has them
CoinFunds = tuple[str, Decimal, Decimal, Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class WalletReport:
    coins: tuple[CoinRow, ...]
    total_equity: Decimal
    total_margin_balance: Decimal
    total_wallet_balance: Decimal
    total_available: Decimal
    total_initial_margin: Decimal
    total_maintenance_margin: Decimal
    total_unrealised: Decimal


@dataclass
class Account:
    config: VenueConfig
    market: MarketData
    wallet: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    cum_realised: dict[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.wallet = {coin: Decimal(v) for coin, v in self.config.wallet.items()}
        for spec in self.config.markets:
            if spec.category == "linear":
                self.positions[spec.symbol] = Position(spec, self.config.default_leverage)

    # ---- valuation ----------------------------------------------------------------------------
    def unrealised(self, pos: Position) -> Decimal:
        return pos.size * (self.market.mark(pos.spec) - pos.entry) if pos.size else ZERO

    def position_im(self, pos: Position) -> Decimal:
        return abs(pos.size) * self.market.mark(pos.spec) / pos.leverage

    def position_mm(self, pos: Position) -> Decimal:
        return abs(pos.size) * self.market.mark(pos.spec) * self.config.maintenance_margin_rate

    def order_im(self, orders: Iterable[SimOrder]) -> Decimal:
        """Margin held by resting perp orders that could open exposure (stops hold none)."""
        total = ZERO
        for o in orders:
            if o.category == "linear" and not o.reduce_only and o.status != UNTRIGGERED:
                price = o.price if o.price is not None else self.market.reference(self._spec(o))
                total += o.leaves * price / self.positions[o.symbol].leverage
        return total

    def locked(self, coin: str, orders: Iterable[SimOrder]) -> Decimal:
        total = ZERO
        for o in orders:
            if o.category == "spot" and o.locked:
                spec = self._spec(o)
                if (spec.quote if o.side == "Buy" else spec.base) == coin:
                    total += o.locked
        return total

    def coin_value(self, coin: str, amount: Decimal) -> Decimal:
        price = self.market.spot_price(coin)
        return amount * price if price is not None else ZERO

    def wallet_value(self) -> Decimal:
        return sum((self.coin_value(c, v) for c, v in self.wallet.items()), ZERO)

    def equity(self) -> Decimal:
        return self.wallet_value() + self.total_unrealised()

    def total_unrealised(self) -> Decimal:
        return sum((self.unrealised(p) for p in self.positions.values()), ZERO)

    def collateral(self, coin: str, amount: Decimal) -> Decimal:
        price = self.market.spot_price(coin)
        return self.config.collateral_value(coin, amount, price) if price is not None else ZERO

    def margin_balance(self, upnl: Decimal | None = None) -> Decimal:
        """What margins the positions: coins at their collateral value ratios, plus perp PnL
        (``upnl`` when the caller has it)."""
        coins = sum((self.collateral(c, v) for c, v in self.wallet.items()), ZERO)
        return coins + (self.total_unrealised() if upnl is None else upnl)

    def maintenance_margin(self) -> Decimal:
        return sum((self.position_mm(p) for p in self.positions.values()), ZERO)

    def total_position_im(self) -> Decimal:
        return sum((self.position_im(p) for p in self.positions.values()), ZERO)

    def available(
        self,
        orders: list[SimOrder],
        parts: tuple[Decimal, Decimal, Decimal, dict[str, Decimal]] | None = None,
    ) -> Decimal:
        """``parts``: (margin balance, position IM, order IM, locked per coin) when the caller
        has them (``report`` does)."""
        if parts is None:
            locks = {c: self.locked(c, orders) for c in self.wallet}
            parts = (self.margin_balance(), self.total_position_im(), self.order_im(orders), locks)
        margin, position_im, order_im, locks = parts
        locked_usd = sum((self.coin_value(c, locks[c]) for c in self.wallet), ZERO)
        return margin - position_im - order_im - locked_usd

    def liquidation_price(
        self, pos: Position, totals: tuple[Decimal, Decimal] | None = None
    ) -> Decimal | None:
        """``totals``: the account's (margin balance, maintenance margin) when the caller has
        them (one computation for all positions, not one per position)."""
        if not pos.size:
            return None
        balance, maintenance = totals or (self.margin_balance(), self.maintenance_margin())
        mark = self.market.mark(pos.spec)
        c = self.collateral(pos.spec.base, self.wallet.get(pos.spec.base, ZERO)) / mark
        others = maintenance - self.position_mm(pos)
        slope = pos.size + c
        denominator = slope - self.config.maintenance_margin_rate * abs(pos.size)
        if not denominator:
            return None
        price = (others - balance + slope * mark) / denominator
        if not pos.spec.tick < price < pos.spec.max_price:
            return None
        return price.quantize(pos.spec.tick)

    def totals(self) -> tuple[Decimal, Decimal]:
        return self.margin_balance(), self.maintenance_margin()

    def row(self, pos: Position, totals: tuple[Decimal, Decimal] | None = None) -> PositionRow:
        mark = self.market.mark(pos.spec)
        return PositionRow(
            spec=pos.spec,
            size=pos.size,
            entry=pos.entry,
            mark=mark,
            leverage=pos.leverage,
            unrealised=q8(self.unrealised(pos)),
            cur_realised=pos.cur_realised,
            cum_realised=pos.cum_realised,
            value=q8(abs(pos.size) * mark),
            initial_margin=q8(self.position_im(pos)),
            maintenance_margin=q8(self.position_mm(pos)),
            liquidation_price=self.liquidation_price(pos, totals),
            created=pos.created,
            updated=pos.updated,
        )

    def funds(self, orders: list[SimOrder]) -> list[CoinFunds]:
        position_im, order_im = q8(self.total_position_im()), q8(self.order_im(orders))
        return [
            (coin, q8(balance), q8(self.locked(coin, orders)))
            + ((position_im, order_im) if coin == SETTLE else (ZERO, ZERO))
            for coin, balance in sorted(self.wallet.items())
        ]

    def report(self, orders: list[SimOrder]) -> WalletReport:
        # each total once (they were computed up to four times per report)
        position_im = self.total_position_im()
        order_im = self.order_im(orders)
        upnl = self.total_unrealised()
        margin = self.margin_balance(upnl)
        locks = {c: self.locked(c, orders) for c in self.wallet}
        available = self.available(orders, (margin, position_im, order_im, locks))
        wallet_value = self.wallet_value()
        coins = []
        for coin, balance in sorted(self.wallet.items()):
            settle = coin == SETTLE
            locked = locks[coin]
            equity = balance + (upnl if settle else ZERO)
            coins.append(
                CoinRow(
                    coin=coin,
                    wallet_balance=q8(balance),
                    locked=q8(locked),
                    position_im=q8(position_im) if settle else ZERO,
                    order_im=q8(order_im) if settle else ZERO,
                    equity=q8(equity),
                    usd_value=q8(self.coin_value(coin, equity)),
                    unrealised=q8(upnl) if settle else ZERO,
                    cum_realised=q8(self.cum_realised.get(coin, ZERO)),
                    available_to_withdraw=q8(max(ZERO, min(balance - locked, available)))
                    if settle
                    else q8(balance - locked),
                )
            )
        return WalletReport(
            coins=tuple(coins),
            total_equity=q8(wallet_value + upnl),
            total_margin_balance=q8(margin),
            total_wallet_balance=q8(wallet_value),
            total_available=q8(available),
            total_initial_margin=q8(position_im + order_im),
            total_maintenance_margin=q8(self.maintenance_margin()),
            total_unrealised=q8(upnl),
        )

    # ---- changes ------------------------------------------------------------------------------
    def credit(self, coin: str, amount: Decimal) -> None:
        self.wallet[coin] = q8(self.wallet.get(coin, ZERO) + amount)

    def apply_perp_trade(
        self, pos: Position, signed_qty: Decimal, price: Decimal, fee: Decimal, now: datetime
    ) -> Decimal:
        """Move the position by ``signed_qty`` at ``price``; realised PnL and the fee settle in
        USDT. Returns the size closed (base units, positive)."""
        closed = ZERO
        pnl = ZERO
        if pos.size and (pos.size > 0) != (signed_qty > 0):
            closed = min(abs(signed_qty), abs(pos.size))
            direction = Decimal(1) if pos.size > 0 else Decimal(-1)
            pnl = closed * (price - pos.entry) * direction
        new_size = pos.size + signed_qty
        if not pos.size or new_size == 0 or (new_size > 0) != (pos.size > 0):
            # opened fresh, closed, or flipped: the remainder (if any) is entered at this price
            pos.entry = price if new_size else ZERO
            pos.cur_realised = ZERO
            pos.created = now if new_size else pos.created
        elif abs(new_size) > abs(pos.size):
            pos.entry = (abs(pos.size) * pos.entry + abs(signed_qty) * price) / abs(new_size)
        pos.size = new_size
        pos.updated = now
        self.realise(pos, pnl - fee)
        return closed

    def realise(self, pos: Position, amount: Decimal) -> None:
        amount = q8(amount)
        self.credit(SETTLE, amount)
        pos.cur_realised += amount
        pos.cum_realised += amount
        self.cum_realised[SETTLE] = self.cum_realised.get(SETTLE, ZERO) + amount

    def apply_spot_trade(
        self, spec: MarketSpec, side: str, qty: Decimal, price: Decimal, fee: Decimal
    ) -> None:
        """Spot fills move coins; the fee is paid in the coin received (Bybit's "Spot Fee Currency
        Instruction" for a positive fee rate): base for a buy, quote for a sell."""
        value = qty * price
        if side == "Buy":
            self.credit(spec.base, qty - fee)
            self.credit(spec.quote, -value)
        else:
            self.credit(spec.base, -qty)
            self.credit(spec.quote, value - fee)

    def _spec(self, order: SimOrder) -> MarketSpec:
        return self.config.market(order.category, order.symbol)
