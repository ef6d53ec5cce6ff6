"""Orders in batches: several creates or cancels of one category in one request (Bybit
``/v5/order/create-batch`` and ``/v5/order/cancel-batch`` through ccxt's ``create_orders`` and
``cancel_orders_for_symbols``), and a stop-loss moved in place (``edit_order``: /v5/order/amend).

Every order of a batch keeps the single-order rules (ccxt_orders): a batch is sent once, never
retried; each order's answer is its own (Bybit handles each on its own: one refusal stops no
other); when the batch's outcome is unknown (timeout, dropped connection, 5xx, an answer that does
not account for every order) each of its orders is looked up by client id, as a lone create is.
Venues without batches (profile ``batch_sizes`` empty) get one request per order, concurrently.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from ccxt.base import errors as ccxt_errors

from bot.domain import IntentStatus, MarketKind, OrderAck, OrderIntent
from bot.errors import AmbiguousSubmit, ExchangeError, OrderRejected, TransientError
from bot.exchange.ccxt_orders import CcxtOrders
from bot.exchange.classify import CREATE_ORDER, classify, is_duplicate_client_id

AMEND_ORDER = "amend_order"
CANCEL_ORDER = "cancel_order"
_CATEGORY = {MarketKind.SPOT: "spot", MarketKind.PERP: "linear"}

Outcome = OrderAck | BaseException


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _link(row: dict[str, Any]) -> str:
    info = row.get("info") or {}
    return str(info.get("orderLinkId") or row.get("clientOrderId") or "")


def _refused(row: dict[str, Any]) -> bool:
    return not row.get("id") and (row.get("info") or {}).get("code") not in (None, 0, "0")


def by_client_id(cids: Sequence[str], rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """Each order's row. Bybit answers in request order, but ccxt's parse_orders sorts the rows
    by time: only rows without a time keep that order. Rows are found by their client id; rows
    without one (a refusal may echo none) go by position while no row has a time, else to the
    orders left in order when they are all refusals and as many. An order left without a row
    is None: its outcome unknown, looked up, never guessed."""
    if len(rows) == len(cids) and all(r.get("timestamp") is None for r in rows):
        return [r if _link(r) in ("", c) else None for c, r in zip(cids, rows, strict=True)]
    wanted = set(cids)
    found: dict[str, dict[str, Any]] = {}
    anonymous: list[dict[str, Any]] = []
    for row in rows:
        link = _link(row)
        if link in wanted and link not in found:
            found[link] = row
        else:
            anonymous.append(row)
    left = [c for c in cids if c not in found]
    if len(anonymous) == len(left) and all(not _link(r) and _refused(r) for r in anonymous):
        found.update(zip(left, anonymous, strict=True))
    return [found.get(c) for c in cids]


async def _settle(outcomes: list[Any], index: int, call: Awaitable[Any]) -> None:
    try:
        outcomes[index] = await call
    except Exception as exc:  # an order's own failure: handed back in its place
        outcomes[index] = exc


class CcxtBatch(CcxtOrders):
    def _batch_size(self, kind: MarketKind) -> int:
        return self._profile.batch_sizes.get(_CATEGORY[kind], 1)

    async def _grouped(
        self,
        symbols: Sequence[str],
        single: Callable[[int], Awaitable[Any]],
        batch: Callable[[list[int]], Awaitable[list[Any]]],
    ) -> list[Any]:
        """One outcome per item: items of one market kind go out in batches of the venue's
        size, lone ones (or every one, where the venue has no batches) one request each; all
        requests at once."""
        await self.load_markets()
        outcomes: list[Any] = [None] * len(symbols)
        groups: dict[MarketKind, list[int]] = {}
        for i, symbol in enumerate(symbols):
            try:
                groups.setdefault(self._market(symbol).kind, []).append(i)
            except ExchangeError as exc:
                outcomes[i] = exc
        jobs: list[Awaitable[None]] = []
        for kind, indices in groups.items():
            size = self._batch_size(kind)
            for chunk in _chunks(indices, size if size > 1 else 1):
                if len(chunk) == 1:
                    jobs.append(_settle(outcomes, chunk[0], single(chunk[0])))
                else:
                    jobs.append(self._spread(outcomes, chunk, batch(chunk)))
        await asyncio.gather(*jobs)
        return outcomes

    @staticmethod
    async def _spread(outcomes: list[Any], chunk: list[int], call: Awaitable[list[Any]]) -> None:
        try:
            results = await call
        except Exception as exc:  # the batch as a whole was refused: so was each of its orders
            results = [exc] * len(chunk)
        for i, result in zip(chunk, results, strict=True):
            outcomes[i] = result

    def _venue_error(self, code: Any, message: Any) -> Exception:
        """A per-order refusal inside a batch answer as the ccxt exception it would have raised
        had the order been sent alone (ccxt's own code table)."""
        body = json.dumps({"retCode": code, "retMsg": message})
        feedback = f"{self._client.id} {body}"
        exc: Exception = ccxt_errors.ExchangeError(feedback)
        try:
            self._client.throw_broadly_matched_exception(
                self._client.exceptions["broad"], body, feedback
            )
            self._client.throw_exactly_matched_exception(
                self._client.exceptions["exact"], str(code), feedback
            )
        except Exception as mapped:
            exc = mapped
        return exc

    # -- create -------------------------------------------------------------------------------

    async def create_orders(self, intents: Sequence[OrderIntent]) -> Sequence[Outcome]:
        items = list(intents)
        return await self._grouped(
            [i.symbol for i in items],
            lambda i: self.create_order(items[i]),
            lambda chunk: self._create_batch([items[i] for i in chunk]),
        )

    async def _create_batch(self, intents: list[OrderIntent]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(intents)
        orders, sent = [], []
        for n, intent in enumerate(intents):
            try:
                symbol, order_type, amount, price, params = self._order_args(intent)
            except OrderRejected as exc:
                outcomes[n] = exc
                continue
            if self._market(symbol).kind == MarketKind.PERP:
                self._traded.add(symbol)
            side = intent.side.value
            orders.append(
                {"symbol": symbol, "type": order_type, "side": side, "amount": amount}
                | {"price": price, "params": params}
            )
            sent.append(n)
        if orders:
            answers = await self._send_batch([intents[n] for n in sent], orders)
            for n, outcome in zip(sent, answers, strict=True):
                outcomes[n] = outcome
        return [o if o is not None else AmbiguousSubmit("no outcome") for o in outcomes]

    async def _send_batch(self, intents: list[OrderIntent], orders: list[dict]) -> list[Outcome]:
        try:
            rows = await self._client.create_orders(orders)
        except Exception as exc:  # classified below; never retried
            if isinstance(exc, ccxt_errors.InvalidNonce):
                await self._resync_clock()
            error = classify(exc, CREATE_ORDER, secrets=self._secrets())
            if isinstance(error, AmbiguousSubmit):  # any order of it may have got through
                return list(await asyncio.gather(*(self._lookup(i, error) for i in intents)))
            return [error] * len(intents)
        if not isinstance(rows, list) or len(rows) != len(intents):
            error = AmbiguousSubmit(
                "create_orders: the answer does not account for every order",
                operation=CREATE_ORDER,
            )
            return list(await asyncio.gather(*(self._lookup(i, error) for i in intents)))
        matched = by_client_id([i.client_order_id for i in intents], rows)
        return list(
            await asyncio.gather(*(self._one(i, r) for i, r in zip(intents, matched, strict=True)))
        )

    async def _one(self, intent: OrderIntent, row: dict[str, Any] | None) -> Outcome:
        """One order's answer in a batch: its ack, its refusal, or a lookup by client id."""
        if row is None:
            unnamed = AmbiguousSubmit(
                "create_orders: no answer names this order", operation=CREATE_ORDER
            )
            return await self._lookup(intent, unnamed)
        info = row.get("info") or {}
        code = info.get("code")
        if code not in (None, 0, "0"):
            refusal = self._venue_error(code, info.get("msg"))
            error = classify(refusal, CREATE_ORDER, secrets=self._secrets())
            if isinstance(error, AmbiguousSubmit) or is_duplicate_client_id(refusal):
                return await self._lookup(intent, error)
            return error
        if not row.get("id"):
            error = AmbiguousSubmit(
                "create_orders: the venue answered without an order id", operation=CREATE_ORDER
            )
            return await self._lookup(intent, error)
        return OrderAck(intent.client_order_id, str(row["id"]), IntentStatus.OPEN)

    async def _lookup(self, intent: OrderIntent, error: ExchangeError) -> Outcome:
        try:
            return await self._resolve(intent, error)
        except ExchangeError as exc:
            return exc

    # -- cancel -------------------------------------------------------------------------------

    async def cancel_orders(
        self, cancels: Sequence[tuple[str, str]]
    ) -> Sequence[bool | BaseException]:
        items = list(cancels)
        return await self._grouped(
            [symbol for symbol, _ in items],
            lambda i: self.cancel_order(*items[i]),
            lambda chunk: self._cancel_batch([items[i] for i in chunk]),
        )

    async def _cancel_batch(self, cancels: list[tuple[str, str]]) -> list[bool | BaseException]:
        request = [{"symbol": s, "clientOrderId": cid} for s, cid in cancels]
        # a cancel is safe to repeat: retried like a read (a repeat finds it gone: False)
        rows = await self._read(CANCEL_ORDER, self._client.cancel_orders_for_symbols, request, {})
        if not isinstance(rows, list) or len(rows) != len(cancels):
            raise ExchangeError(
                "cancel_orders: the answer does not account for every order",
                operation=CANCEL_ORDER,
            )
        # ccxt keeps only the rows: a refused cancel has no order id (Bybit: 110001, gone)
        matched = by_client_id([cid for _, cid in cancels], rows)
        return [
            bool(row.get("id"))
            if row is not None
            else ExchangeError("cancel_orders: no answer names this order", operation=CANCEL_ORDER)
            for row in matched
        ]

    # -- amend --------------------------------------------------------------------------------

    def _amend_args(self, symbol: str, cid: str, qty: Decimal, trigger: Decimal) -> dict[str, Any]:
        if not self._profile.amend_stops:
            raise OrderRejected(
                f"{self._profile.name}: stops are not amended here", operation=AMEND_ORDER
            )
        params = {
            self._profile.client_id_param: cid,
            self._profile.stop_price_param: str(trigger),
            **self._profile.stop_params,
        }
        amount = float(qty / self._market(symbol).contract_size)
        # ccxt wants a type and side to build the request, but Bybit's amend sends neither
        return {"id": None, "symbol": symbol, "type": "market", "side": "buy"} | {
            "amount": amount,
            "price": None,
            "params": params,
        }

    async def amend_stop(
        self, symbol: str, client_order_id: str, qty: Decimal, trigger_price: Decimal
    ) -> OrderAck:
        await self.load_markets()
        a = self._amend_args(symbol, client_order_id, qty, trigger_price)
        order = await self._once(
            AMEND_ORDER,
            self._client.edit_order,
            *(None, symbol, a["type"], a["side"], a["amount"], None, a["params"]),
        )
        return OrderAck(client_order_id, str(order.get("id") or ""), IntentStatus.OPEN)

    async def amend_stops(
        self, amends: Sequence[tuple[str, str, Decimal, Decimal]]
    ) -> Sequence[OrderAck | BaseException]:
        items = list(amends)
        return await self._grouped(
            [a[0] for a in items],
            lambda i: self.amend_stop(*items[i]),
            lambda chunk: self._amend_batch([items[i] for i in chunk]),
        )

    async def _amend_batch(
        self, amends: list[tuple[str, str, Decimal, Decimal]]
    ) -> list[OrderAck | BaseException]:
        """Bybit's amend-batch (ccxt edit_orders): each amendment answered on its own. A lost
        answer leaves each unknown (TransientError): the stop rests, moved or not."""
        orders = [self._amend_args(*a) for a in amends]
        rows = await self._once(AMEND_ORDER, self._client.edit_orders, orders)
        if not isinstance(rows, list) or len(rows) != len(amends):
            raise TransientError(
                "edit_orders: the answer does not account for every order", operation=AMEND_ORDER
            )
        out: list[OrderAck | BaseException] = []
        matched = by_client_id([a[1] for a in amends], rows)
        for (_, cid, _, _), row in zip(amends, matched, strict=True):
            if row is None:
                out.append(TransientError("no answer names this order", operation=AMEND_ORDER))
                continue
            info = row.get("info") or {}
            code = info.get("code")
            if code not in (None, 0, "0"):
                refusal = self._venue_error(code, info.get("msg"))
                out.append(classify(refusal, AMEND_ORDER, secrets=self._secrets()))
            elif not row.get("id"):
                out.append(TransientError("amended without an order id", operation=AMEND_ORDER))
            else:
                out.append(OrderAck(cid, str(row["id"]), IntentStatus.OPEN))
        return out
