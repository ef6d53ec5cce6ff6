"""`hedgebot report`: did the hedge work, and what did it cost? Built from the database alone.

Amounts are Decimal (written as strings in report.json, in the quote); fractions are floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from bot.domain import ZERO
from bot.review.report_calc import Attribution, HedgeSeries, attribute
from bot.store.repo import Store

YEAR = timedelta(days=365.25)
CENT = Decimal("0.01")


async def load(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    hedge: str | None = None,
    quote: str = "USDT",
) -> Attribution | None:
    # every hedge's marks even for one: a perp several hedges share is split by all their rows
    marks = await store.marks(since=since, until=until)
    if not marks:
        return None
    first, last = marks[0].ts, marks[-1].ts
    fills = [f for f in await store.fills(since=first) if f.ts <= last]
    funding = [p for p in await store.funding(since=first) if p.ts <= last]
    att = attribute(marks, fills, funding, quote)
    if att is None or hedge is None:
        return att
    series = att.hedges.get(hedge)
    if series is None:
        return None
    # one hedge is its own total; the account's value is not one hedge's: no account comparison
    return Attribution({hedge: series}, series, [])


def max_drawdown(values: Sequence[Decimal]) -> float | None:
    """Largest fall from a running peak, as a fraction of that peak (None without a positive
    peak: a book that starts at zero, like a basis trade, has no value to fall from)."""
    peak, worst = None, 0.0
    for v in values:
        peak = v if peak is None or v > peak else peak
        if peak <= 0:
            return None
        worst = max(worst, float((peak - v) / peak))
    return worst if peak is not None else None


def effectiveness(hedged: Sequence[float], unhedged: Sequence[float]) -> float | None:
    """1 - var(hedged returns) / var(unhedged returns); None with under two returns or none
    varying."""
    if len(unhedged) < 2:
        return None
    var_u = float(np.var(unhedged))
    if var_u == 0 or not math.isfinite(var_u):
        return None
    return 1.0 - float(np.var(hedged)) / var_u


def _capture(hedged: Sequence[float], unhedged: Sequence[float], up: bool) -> float | None:
    pairs = [(h, u) for h, u in zip(hedged, unhedged, strict=True) if (u > 0 if up else u < 0)]
    if not pairs:
        return None
    return sum(h for h, _ in pairs) / sum(u for _, u in pairs)


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _fraction(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


# Figures of a hedge over time: from a single snapshot (taken before the first cycle's orders)
# they would describe one instant, not the period, and read as "never hedged".
OVER_TIME = (
    "max_drawdown_hedged",
    "max_drawdown_unhedged",
    "avg_ratio",
    "avg_target_ratio",
    "time_outside_band",
    "time_unprotected",
)


def too_short(report: dict[str, Any]) -> str | None:
    """One line saying why the ratio and risk figures are blank, or None when they are not."""
    marks = report["total"].get("marks", 0)
    if marks >= 2:
        return None
    return (
        f"period too short: {marks} mark-to-market snapshot (the bot takes one an hour); "
        "ratio, band and risk figures need two or more: report a longer period"
    )


def metrics(series: HedgeSeries) -> dict[str, Any]:
    p = series.total
    start = series.spot_value[0]
    hedged = [start + v for v in series.cum_net]
    unhedged = [start + v for v in series.cum_spot]
    span = series.times[-1] - series.times[0]
    years = span / YEAR if span else 0.0
    notional = sum(series.hedged_notional, ZERO) / len(series.hedged_notional)
    per_year = Decimal(str(years)) * notional
    cost = p.fees + p.slippage + p.funding_paid
    out = {
        "spot_pnl": p.spot,
        "perp_pnl": p.perp,
        "funding": p.funding,
        "funding_received": p.funding_received,
        "funding_paid": p.funding_paid,
        "fees": p.fees,
        "slippage": p.slippage,
        "net_pnl": p.net,
        "start_value": start,
        "effectiveness": effectiveness(series.r_hedged, series.r_unhedged),
        "max_drawdown_hedged": max_drawdown(hedged),
        "max_drawdown_unhedged": max_drawdown(unhedged),
        "upside_capture": _capture(series.r_hedged, series.r_unhedged, True),
        "downside_capture": _capture(series.r_hedged, series.r_unhedged, False),
        "avg_ratio": _mean(series.ratio),
        "avg_target_ratio": _mean(series.target_ratio),
        "time_outside_band": _fraction(series.outside_band),
        "time_unprotected": _fraction(series.unprotected),
        "turnover": float(p.traded / per_year) if per_year > 0 else None,
        "hedge_cost_per_year": float(cost / per_year) if per_year > 0 else None,
        "hedged_notional": notional,
        "stop_fills": p.stop_fills,
        "marks": len(series.times),
    }
    if len(series.times) < 2:
        out.update(dict.fromkeys(OVER_TIME))
    return out


def build(att: Attribution, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report as plain data (Decimals kept; ``to_json`` writes them as strings)."""
    total = metrics(att.total)
    if att.equity:
        change = att.equity[-1][1] - att.equity[0][1]
        total["account_value_start"] = att.equity[0][1]
        total["account_value_end"] = att.equity[-1][1]
        total["account_change"] = change
        # coins and perps outside every hedge (or a deposit) move the account without a part
        total["unexplained"] = change - total["net_pnl"]
    report: dict[str, Any] = {
        "period": {"from": att.total.times[0], "to": att.total.times[-1]},
        "hedges": {name: metrics(s) for name, s in sorted(att.hedges.items())},
        "total": total,
    }
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and key in ("hedges", "total"):
            continue
        report[key] = value
    for name, value in (extra or {}).get("hedges", {}).items():
        report["hedges"].get(name, {}).update(value)
    report["total"].update((extra or {}).get("total", {}))
    return report


def to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("1E-8")), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


COLUMNS = (
    ("spot_pnl", "spot"),
    ("perp_pnl", "perp"),
    ("funding", "funding"),
    ("fees", "fees"),
    ("slippage", "slippage"),
    ("net_pnl", "net"),
    ("effectiveness", "effect."),
    ("max_drawdown_hedged", "mdd hedged"),
    ("max_drawdown_unhedged", "mdd unhedged"),
    ("avg_ratio", "avg ratio"),
    ("time_outside_band", "out of band"),
    ("time_unprotected", "unprotected"),
    ("turnover", "turnover/yr"),
    ("hedge_cost_per_year", "cost/yr"),
    ("stop_fills", "stops"),
)


def cell(value: Any, key: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value.quantize(CENT):,}"
    if isinstance(value, float):
        if key in ("effectiveness", "avg_ratio", "turnover"):
            return f"{value:.4f}"
        return f"{value:.2%}"
    return str(value)


def rows(report: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for name, m in [*report["hedges"].items(), ("TOTAL", report["total"])]:
        out.append({"hedge": name, **{label: cell(m.get(k), k) for k, label in COLUMNS}})
    return out
