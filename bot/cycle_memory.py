"""What the engine remembers from one cycle to the next, and the cycle summary it stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.decide import Decision
from bot.domain import ZERO, Fill, Snapshot
from bot.execution import ActResult
from bot.reconcile import ReconcileResult, detect_drift
from bot.store.repo import Store

OUR_PREFIX = "hb-"
# a holding that moves by more than this fraction (vanishes, doubles) since the last trusted
# observation is acted on only once a second observation confirms it: one wallet answer that
# omitted a coin once bought back a whole short and re-sold it two cycles later
HOLDING_JUMP = Decimal("0.5")
SEED_CYCLES = 100  # newest cycles searched at start for the last observed account


def _sizes(snapshot: Snapshot) -> dict[str, Decimal]:
    return {s: p.size for s, p in snapshot.positions.items() if p.size}


def _jumped(before: Decimal, now: Decimal) -> bool:
    return abs(now - before) > HOLDING_JUMP * abs(before)


class CycleMemory:
    def __init__(self) -> None:
        self.prices: dict[str, Decimal] = {}  # last trusted price per symbol (jump detection)
        # as last observed (None: the next cycle reads fills; the stream sets it after a gap)
        self.positions: dict[str, Decimal] | None = None
        # last trusted position per perp: what the venue said, or what our fills made of the
        # last trusted one while an answer that disagrees is not yet confirmed
        self.trusted_positions: dict[str, Decimal] | None = None
        self._funding_checked: datetime | None = None
        self._settlement_seen: datetime | None = None  # the next settlement the last cycle saw
        self.holdings: dict[str, Decimal] = {}  # last trusted spot holding per asset
        self._holdings_seen: dict[str, Decimal] = {}  # as last observed, trusted or not

    def unconfirmed_holdings(
        self, snapshot: Snapshot, assets: Sequence[str], quote: str
    ) -> dict[str, str]:
        """Spot symbol -> why its holding is not acted on this cycle: it vanished or jumped since
        the last trusted observation and the previous observation does not confirm it. A real
        sale is seen twice, so it is followed one cycle later; a glitch is never acted on."""
        out = {}
        for asset in assets:
            now = snapshot.spot_qty(asset)
            trusted, seen = self.holdings.get(asset), self._holdings_seen.get(asset)
            if (
                trusted is None
                or not _jumped(trusted, now)
                or (seen is not None and not _jumped(seen, now))
            ):
                self.holdings[asset] = now
                continue
            out[f"{asset}/{quote}"] = (
                f"{asset} holding went from {trusted} to {now}; acted on once confirmed"
            )
        return out

    async def load(self, store: Store) -> None:
        """Seed the trusted holdings and positions from the last cycle that observed the account,
        so one bad answer right after a restart is not trusted as it comes (it waits for a
        second one, as during a run). Our fills since are fresh on the first cycle: they count."""
        for cycle in await store.cycles(limit=SEED_CYCLES):
            account, positions = cycle.summary.get("account"), cycle.summary.get("positions")
            if isinstance(account, Mapping) and isinstance(positions, Mapping):
                spot = account.get("spot") or {}
                self.holdings = {
                    a: Decimal(str(v["qty"])) for a, v in spot.items() if v.get("qty") is not None
                }
                sizes = {s: Decimal(str(q)) for s, q in positions.items()}
                self.trusted_positions = {s: q for s, q in sizes.items() if q}
                return

    def fills_due(self, snapshot: Snapshot, changed_intents: int) -> bool:
        """Ask the venue for fills only when something may have executed."""
        return self.positions is None or changed_intents > 0 or _sizes(snapshot) != self.positions

    def funding_due(self, snapshot: Snapshot) -> bool:
        """Ask for funding payments only after a settlement time passed (or hourly)."""
        last, self._funding_checked = self._funding_checked, snapshot.ts
        # this snapshot already names the settlement after the one that passed: compare with
        # what the previous cycle saw as next (hourly cycles would otherwise never see a crossing)
        seen = self._settlement_seen
        upcoming = [f.next_funding_time for f in snapshot.funding.values() if f.next_funding_time]
        self._settlement_seen = min(upcoming) if upcoming else None
        if last is None:
            return True
        crossed = seen is not None and seen <= snapshot.ts
        return crossed or (snapshot.ts - last).total_seconds() > 3600

    def drift(
        self, snapshot: Snapshot, fresh_fills: Sequence[Fill], steps: Mapping[str, Decimal]
    ) -> dict[str, Decimal]:
        """Position moves since the last trusted position that our own newly seen fills do not
        explain (a manual trade, a liquidation, or one answer that omits a position), and that
        the previous observation does not confirm: those symbols are not acted on this cycle. A
        real move is seen twice and followed a cycle later; a glitch is never acted on. New fills
        are told apart by the venue's trade id (is it in the database yet?), not by time: the
        venue's clock and ours need not agree."""
        now = _sizes(snapshot)
        if self.trusted_positions is None:  # first start: nothing to compare with
            self.trusted_positions = now
            return {}
        ours = [f for f in fresh_fills if (f.client_order_id or "").startswith(OUR_PREFIX)]
        moved = detect_drift(self.trusted_positions, snapshot, ours, steps)
        if self.positions is not None:  # confirmed: this answer agrees with the previous one
            unlike_seen = detect_drift(self.positions, snapshot, ours, steps)
            moved = {s: a for s, a in moved.items() if s in unlike_seen}
        trusted = {s: now.get(s, ZERO) - moved.get(s, ZERO) for s in {*now, *moved}}
        self.trusted_positions = {s: q for s, q in trusted.items() if q}
        return moved

    def remember(self, snapshot: Snapshot) -> None:
        """Called for every observed snapshot, also when its decision is skipped, so the next
        cycle compares positions and prices with what was really last seen."""
        self.positions = _sizes(snapshot)
        self._holdings_seen = {
            a: snapshot.spot_qty(a) for a in {*self.holdings, *snapshot.balances}
        }
        for symbol, ticker in snapshot.tickers.items():
            if ticker.price is not None and ticker.price.is_finite() and ticker.price > 0:
                self.prices[symbol] = ticker.price


def cycle_summary(
    snapshot: Snapshot,
    decision: Decision,
    risk_rejections: int,
    act: ActResult,
    stop_act: ActResult,
    cancelled: int,
    rec: ReconcileResult,
) -> dict[str, Any]:
    return {
        "targets": {f"{t.hedge}:{t.perp_symbol}": str(t.size) for t in decision.targets},
        "positions": {s: str(p.size) for s, p in snapshot.positions.items()},
        "orders": len(act.sent),
        "rejected": risk_rejections + len(act.rejected),
        "unknown": len(act.unknown),
        "stops_placed": len(stop_act.sent),
        "stops_amended": len(stop_act.amended),
        "stops_cancelled": cancelled,
        "new_fills": rec.new_fills,
        "new_funding": rec.new_funding,
        "failures": decision.failures,
    }
