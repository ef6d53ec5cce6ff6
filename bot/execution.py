"""Act: send recorded intents and map each outcome onto the intent's stored status.

Order creation is never retried here or below: an ambiguous submit becomes UNKNOWN and is resolved
by client order id in the next reconcile; a venue rejection is stored with the venue's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import IntentStatus, OrderIntent, Rejection
from bot.errors import (
    AmbiguousSubmit,
    ExchangeError,
    FatalExchangeError,
    OrderRejected,
    RateLimited,
    TransientError,
)
from bot.exchange.found import too_old
from bot.exchange.port import ExchangePort
from bot.logging import get_logger
from bot.store import IntentTransitionError, NotFound
from bot.store.repo import Store

log = get_logger("bot.execution")


@dataclass
class ActResult:
    sent: list[str] = field(default_factory=list)
    amended: list[str] = field(default_factory=list)  # stops moved in place (same client id)
    rejected: list[Rejection] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    fatal: FatalExchangeError | None = None

    def merge(self, other: ActResult) -> None:
        self.sent += other.sent
        self.amended += other.amended
        self.rejected += other.rejected
        self.unknown += other.unknown
        self.fatal = self.fatal or other.fatal


async def send_intents(
    port: ExchangePort,
    store: Store,
    intents: Sequence[OrderIntent],
    cycle: int,
    written_at: datetime | None = None,
) -> ActResult:
    """``written_at``: when these intents were written ahead; an order found under one of their
    ids but created well before then is another order (an id reused after a database restore)."""
    result = ActResult()
    # every order goes out at once, in batches where the venue takes them (the request budget
    # paces them by the venue's limits): one round trip, not one per order; each order's answer
    # is then recorded on its own, in order
    outcomes = await port.create_orders(intents) if intents else []
    for intent, outcome in zip(intents, outcomes, strict=True):
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            ack = outcome
        except OrderRejected as exc:
            await _rejected(store, intent, str(exc), cycle, result)
            continue
        except RateLimited as exc:
            # HTTP 429 / Bybit retCode 10006: refused before processing (Bybit documents it), so
            # nothing reached the matching engine: close the intent and plan again next cycle
            reason = f"refused before processing, re-planned next cycle: {exc}"
            await store.update_intent(intent.client_order_id, IntentStatus.LOST, reason=reason)
            log.warning(
                "order refused by a rate limit; re-planned next cycle",
                symbol=intent.symbol,
                client_order_id=intent.client_order_id,
            )
            continue
        except (AmbiguousSubmit, TransientError) as exc:
            # A create that failed on the way may still have reached the venue: never resend it.
            await store.update_intent(intent.client_order_id, IntentStatus.UNKNOWN, reason=str(exc))
            result.unknown.append(intent.client_order_id)
            log.warning(
                "order outcome unknown; will resolve by client id",
                symbol=intent.symbol,
                client_order_id=intent.client_order_id,
                error=str(exc),
            )
            continue
        except FatalExchangeError as exc:
            await store.update_intent(intent.client_order_id, IntentStatus.UNKNOWN, reason=str(exc))
            result.fatal = result.fatal or exc  # the first: the venue refuses us as a whole
            continue
        if written_at is not None and too_old(ack.created_at, written_at):
            why = f"client order id {intent.client_order_id} already names an older order"
            await _rejected(store, intent, why, cycle, result)
            continue
        if ack.status == IntentStatus.REJECTED:
            # some ports answer a refusal as an acknowledgement rather than an exception
            await _rejected(store, intent, ack.reason or "rejected by the venue", cycle, result)
            continue
        if ack.status == IntentStatus.CANCELLED:
            # found by its id already cancelled: it rests nowhere, so it protects nothing
            await store.update_intent(
                intent.client_order_id,
                IntentStatus.CANCELLED,
                venue_order_id=ack.venue_order_id,
                reason=ack.reason or "found cancelled on the venue",
            )
            continue
        await store.update_intent(
            intent.client_order_id,
            ack.status if ack.status != IntentStatus.PENDING else IntentStatus.OPEN,
            venue_order_id=ack.venue_order_id,
        )
        result.sent.append(intent.client_order_id)
        log.info(
            "order sent",
            symbol=intent.symbol,
            side=intent.side.value,
            qty=str(intent.qty),
            kind=intent.kind.value,
            reduce_only=intent.reduce_only,
            client_order_id=intent.client_order_id,
        )
    return result


async def _rejected(
    store: Store, intent: OrderIntent, reason: str, cycle: int, result: ActResult
) -> None:
    """Store the venue's refusal with its reason (the store adds the rejection row)."""
    await store.update_intent(intent.client_order_id, IntentStatus.REJECTED, reason=reason)
    result.rejected.append(Rejection.of(intent, "venue", reason))
    await store.add_event(
        "order_rejected",
        reason,
        level="warning",
        cycle=cycle,
        data={"client_order_id": intent.client_order_id, "symbol": intent.symbol},
    )
    log.warning(
        "order rejected by venue",
        symbol=intent.symbol,
        client_order_id=intent.client_order_id,
        reason=reason,
    )


async def cancel_orders(
    port: ExchangePort, store: Store, cancels: Sequence[tuple[str, str]], cycle: int
) -> int:
    done = 0
    # all cancels at once (in batches where the venue takes them), their answers in order
    outcomes = await port.cancel_orders(cancels) if cancels else []
    for (symbol, cid), outcome in zip(cancels, outcomes, strict=True):
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            still_open = outcome
        except FatalExchangeError:
            raise
        except ExchangeError as exc:  # transient, refused, or the port's own: retried next cycle
            log.warning(
                "cancel failed; retried next cycle",
                symbol=symbol,
                client_order_id=cid,
                error=str(exc),
            )
            continue
        if not still_open:
            continue  # it had filled or gone meanwhile: reconcile records what it became
        try:
            await store.update_intent(cid, IntentStatus.CANCELLED)
        except (NotFound, IntentTransitionError):
            # a stop of ours from another database, or one already final here
            log.info("cancelled an order with no open intent here", client_order_id=cid)
        done += 1
    return done
