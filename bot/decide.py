"""Decide: run each enabled hedge's strategy on the snapshot. A strategy that raises or returns
something unusable skips only its own hedge; the failure is reported, not propagated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain import ZERO, HedgeSpec, HedgeTarget, Snapshot
from bot.logging import get_logger
from strategies import get_strategy
from strategies.base import Strategy

log = get_logger("bot.decide")


@dataclass
class Decision:
    targets: list[HedgeTarget] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # hedge -> why it made no decision
    held: list[HedgeTarget] = field(default_factory=list)


def build_strategies(specs: Sequence[HedgeSpec]) -> dict[str, Strategy]:
    """Instantiate every hedge's strategy (config was validated, so this does not fail)."""
    return {spec.name: get_strategy(spec.strategy).from_spec(spec) for spec in specs}


def decide(
    strategies: Mapping[str, Strategy],
    snapshot: Snapshot,
    previous: Mapping[tuple[str, str], HedgeTarget],
    skip_symbols: set[str],
) -> Decision:
    out = Decision()
    for name, strategy in strategies.items():
        spec = strategy.hedge
        if not spec.enabled:
            if spec.on_disable == "close" and spec.perp_symbol:
                out.targets.append(
                    HedgeTarget(name, spec.perp_symbol, ZERO, "hedge disabled; on_disable=close")
                )
            continue
        prev = {sym: t for (hedge, sym), t in previous.items() if hedge == name}
        try:
            targets = strategy.targets(snapshot, prev)
        except Exception as exc:  # a broken strategy must not stop the other hedges
            out.failures[name] = f"strategy {spec.strategy} raised {type(exc).__name__}: {exc}"
            log.error("strategy failed", hedge=name, error=out.failures[name])
            continue
        for t in targets:
            problem = _unusable(t)
            if problem:
                out.failures[name] = problem
                log.error("strategy returned an unusable target", hedge=name, problem=problem)
                break
        else:
            for t in targets:
                if t.perp_symbol in skip_symbols:
                    out.failures[name] = f"{t.perp_symbol}: decision skipped (position drift)"
                    continue
                out.targets.append(t)
                if t.details.get("held"):
                    out.held.append(t)
        if not targets and name not in out.failures:
            out.failures[name] = "no decision (insufficient data)"
    return out


def _unusable(t: HedgeTarget) -> str | None:
    for label, value in (("size", t.size), ("spot_size", t.spot_size)):
        if value is not None and (not isinstance(value, Decimal) or not value.is_finite()):
            return f"{t.perp_symbol}: {label} {value!r} is not a finite Decimal"
    return None
