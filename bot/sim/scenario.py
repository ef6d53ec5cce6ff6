"""Scripted drills: a TOML list of timed steps that the venue runs as its clock moves.

    [[step]]
    at = "1h"            # simulated time after the scenario starts: "90s", "15m", "6h", "2d"
    action = "price"     # price | wallet
    coin = "BTC"
    change = "-0.30"     # relative to the spot when the step starts (or: price = "42000")
    over = "6h"          # optional: ramp linearly over this duration
    basis = "0.001"      # optional: perp and mark over spot, as a fraction

    [[step]]
    at = "20h"
    action = "wallet"    # a deposit or withdrawal outside the bot: the balance becomes amount
    coin = "BTC"
    amount = "1.5"

Steps act on the venue clock, whatever moves it: the real-time clock (``hedgebot sim --speed``),
``POST /sim/advance`` or ``venue.advance_to`` in a test. A ramp sets the price once per
``RAMP_STEP`` (at most ``MAX_RAMP_POINTS`` times), then the feed moves on from the final level.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.sim.venue import Venue

RAMP_STEP = timedelta(minutes=1)
MAX_RAMP_POINTS = 1000
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_KEYS = {
    "price": {"at", "action", "coin", "price", "change", "over", "basis"},
    "wallet": {"at", "action", "coin", "amount"},
}


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message names the step and the problem."""


def parse_duration(text: Any, what: str) -> timedelta:
    match = _DURATION.match(str(text).strip())
    if match is None:
        raise ScenarioError(f"{what}: {text!r} is not a duration like 90s, 15m, 6h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _decimal(raw: dict[str, Any], key: str, what: str) -> Decimal | None:
    if key not in raw:
        return None
    try:
        value = Decimal(str(raw[key]))
    except InvalidOperation:
        raise ScenarioError(f"{what}: {key} {raw[key]!r} is not a number") from None
    if not value.is_finite():
        raise ScenarioError(f"{what}: {key} must be finite")
    return value


@dataclass(frozen=True)
class Step:
    at: timedelta
    action: str
    coin: str
    price: Decimal | None = None
    change: Decimal | None = None
    over: timedelta = timedelta(0)
    basis: Decimal | None = None
    amount: Decimal | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], n: int) -> Step:
        what = f"step {n}"
        action = raw.get("action")
        if action not in _KEYS:
            raise ScenarioError(f"{what}: action must be one of {', '.join(sorted(_KEYS))}")
        unknown = set(raw) - _KEYS[action]
        if unknown:
            raise ScenarioError(f"{what}: unknown key(s) {', '.join(sorted(unknown))}")
        if "at" not in raw or not isinstance(raw.get("coin"), str):
            raise ScenarioError(f"{what}: 'at' and 'coin' are required")
        step = cls(
            at=parse_duration(raw["at"], what),
            action=action,
            coin=raw["coin"],
            price=_decimal(raw, "price", what),
            change=_decimal(raw, "change", what),
            over=parse_duration(raw["over"], what) if "over" in raw else timedelta(0),
            basis=_decimal(raw, "basis", what),
            amount=_decimal(raw, "amount", what),
        )
        if action == "price" and (step.price is None) == (step.change is None):
            raise ScenarioError(f"{what}: give either price or change")
        if step.price is not None and step.price <= 0:
            raise ScenarioError(f"{what}: price must be positive")
        if step.change is not None and step.change <= -1:
            raise ScenarioError(f"{what}: change must be above -1 (-100%)")
        if action == "wallet" and (step.amount is None or step.amount < 0):
            raise ScenarioError(f"{what}: amount is required and must not be negative")
        return step


@dataclass
class Scenario:
    steps: list[Step]
    _events: list[tuple[datetime, Callable[[Venue], None]]] = field(default_factory=list)
    _next: int = 0

    @classmethod
    def load(cls, path: Path) -> Scenario:
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ScenarioError(f"cannot read {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        raw_steps = data.get("step")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise ScenarioError("a scenario needs at least one [[step]]")
        steps = [Step.parse(raw, n) for n, raw in enumerate(raw_steps, 1)]
        for n, (a, b) in enumerate(pairwise(steps), 2):
            if b.at < a.at + a.over:
                raise ScenarioError(f"step {n}: starts before step {n - 1} ends (steps in order)")
        return cls(steps)

    def install(self, venue: Venue) -> None:
        """Schedule the steps from the venue's current time and apply those due now."""
        for n, step in enumerate(self.steps, 1):
            if step.action == "price" and step.coin not in venue.feed.bases:
                raise ScenarioError(f"step {n}: coin {step.coin!r} is not priced by the simulator")
        start = venue.now
        self._events = [e for step in self.steps for e in _events(step, start)]
        self._next = 0
        venue.script = self._due
        venue.advance_to(venue.now)

    @property
    def finished(self) -> bool:
        return self._next >= len(self._events)

    def _due(
        self, now: datetime, target: datetime
    ) -> tuple[datetime, Callable[[Venue], None]] | None:
        if self.finished or self._events[self._next][0] > target:
            return None
        event = self._events[self._next]
        self._next += 1
        return event


def _events(step: Step, start: datetime) -> list[tuple[datetime, Callable[[Venue], None]]]:
    begin = start + step.at
    if step.action == "wallet":
        amount = step.amount
        assert amount is not None
        return [(begin, lambda v: v.set_wallet(step.coin, amount))]
    ramp = _Ramp(step)
    if not step.over:
        return [(begin, ramp.finish)]
    points = min(MAX_RAMP_POINTS, max(1, -(-step.over // RAMP_STEP)))
    out: list[tuple[datetime, Callable[[Venue], None]]] = [(begin, ramp.begin)]
    for k in range(1, points + 1):
        fraction = Decimal(k) / Decimal(points)
        at = begin + step.over * k / points
        out.append((at, ramp.finish if k == points else ramp.towards(fraction)))
    return out


class _Ramp:
    """One price step: its start level is read when it begins, then interpolated to the target."""

    def __init__(self, step: Step) -> None:
        self.step = step
        self.start: Decimal | None = None

    def target(self, venue: Venue) -> Decimal:
        if self.step.price is not None:
            return self.step.price
        assert self.step.change is not None
        return self.origin(venue) * (1 + self.step.change)

    def origin(self, venue: Venue) -> Decimal:
        if self.start is None:
            self.start = venue.market.point(self.step.coin).spot
        return self.start

    def begin(self, venue: Venue) -> None:
        self.origin(venue)

    def towards(self, fraction: Decimal) -> Callable[[Venue], None]:
        def act(venue: Venue) -> None:
            a = self.origin(venue)
            venue.set_price(
                self.step.coin, a + (self.target(venue) - a) * fraction, self.step.basis
            )

        return act

    def finish(self, venue: Venue) -> None:
        venue.set_price(self.step.coin, self.target(venue), self.step.basis)
