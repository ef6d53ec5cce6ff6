"""Decide: run each enabled hedge's strategy on the snapshot. A strategy that raises, returns
something unusable or reads a symbol whose data is not trusted this cycle makes no decision, and
its position is left as it is, also where it shares a perp with other hedges: its last target
keeps standing for its share (or, with none known, the shared perp is not traded this cycle)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain import ZERO, HedgeSpec, HedgeTarget, Snapshot
from bot.logging import get_logger
from bot.universe import perp_symbols
from strategies import get_strategy
from strategies.base import Strategy

log = get_logger("bot.decide")


@dataclass
class Decision:
    targets: list[HedgeTarget] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # hedge -> why it made no decision
    held: list[HedgeTarget] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # perps not to trade this cycle


def build_strategies(specs: Sequence[HedgeSpec]) -> dict[str, Strategy]:
    """Instantiate every hedge's strategy (config was validated, so this does not fail)."""
    return {spec.name: get_strategy(spec.strategy).from_spec(spec) for spec in specs}


def decide(
    strategies: Mapping[str, Strategy],
    snapshot: Snapshot,
    previous: Mapping[tuple[str, str], HedgeTarget],
    skip_symbols: set[str],
    quote: str = "USDT",
) -> Decision:
    out = Decision()
    kept: dict[str, Strategy] = {}  # hedges whose positions stay as they are this cycle
    by_hedge: dict[str, dict[str, HedgeTarget]] = {}  # once, not a scan of all per hedge
    for (hedge, sym), t in previous.items():
        by_hedge.setdefault(hedge, {})[sym] = t
    for name, strategy in strategies.items():
        spec = strategy.hedge
        if not spec.enabled:
            if spec.on_disable == "close" and spec.perp_symbol:
                out.targets.append(
                    HedgeTarget(name, spec.perp_symbol, ZERO, "hedge disabled; on_disable=close")
                )
            else:
                kept[name] = strategy
            continue
        prev = by_hedge.get(spec.name, {})
        why = _decide_one(strategy, snapshot, prev, skip_symbols, quote, out)
        if why is not None:
            out.failures[name] = why
            kept[name] = strategy
    _keep_shares(kept, previous, out)
    return out


def _decide_one(
    strategy: Strategy,
    snapshot: Snapshot,
    prev: dict[str, HedgeTarget],
    skip_symbols: set[str],
    quote: str,
    out: Decision,
) -> str | None:
    """Append the hedge's targets to ``out``; return why it made no decision, if it did not."""
    spec = strategy.hedge
    untrusted = sorted(strategy.symbols_read(quote) & skip_symbols)
    if untrusted:
        return f"decision skipped: data of {', '.join(untrusted)} not trusted this cycle"
    try:
        targets = strategy.targets(snapshot, prev)
    except Exception as exc:  # a broken strategy must not stop the other hedges
        log.error("strategy failed", hedge=spec.name, error=f"{type(exc).__name__}: {exc}")
        return f"strategy {spec.strategy} raised {type(exc).__name__}: {exc}"
    if not targets:
        return "no decision (insufficient data)"
    for t in targets:
        problem = _unusable(t) or (
            f"{t.perp_symbol}: decision skipped (data not trusted)"
            if t.perp_symbol in skip_symbols
            else None
        )
        if problem:
            log.error("strategy returned an unusable target", hedge=spec.name, problem=problem)
            return problem
    out.targets.extend(targets)
    out.held.extend(t for t in targets if t.details.get("held"))
    return None


def _keep_shares(
    kept: Mapping[str, Strategy],
    previous: Mapping[tuple[str, str], HedgeTarget],
    out: Decision,
) -> None:
    """A kept hedge on a perp that other hedges still trade contributes its last target, so the
    others' decisions do not trade its share away; with no last target known, the perp waits."""
    targeted = {t.perp_symbol for t in out.targets}
    for name, strategy in kept.items():
        for perp in perp_symbols([strategy]):
            if perp not in targeted:
                continue  # nobody trades it this cycle: the position stays as it is
            last = previous.get((name, perp))
            if last is not None:
                out.targets.append(last)
            else:
                out.blocked.add(perp)


def _unusable(t: HedgeTarget) -> str | None:
    for label, value in (("size", t.size), ("spot_size", t.spot_size)):
        if value is not None and (not isinstance(value, Decimal) or not value.is_finite()):
            return f"{t.perp_symbol}: {label} {value!r} is not a finite Decimal"
    return None
