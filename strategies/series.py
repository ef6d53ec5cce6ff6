"""Shared numeric helpers for strategies: bars to numpy arrays and floats back to safe Decimals.

Every helper refuses (returns None) rather than letting a NaN, an infinity or a non-positive price
reach a target: strategies turn None into "no decision" or a documented fallback.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import numpy as np

from bot.domain import Bar

TIMEFRAME_PATTERN = r"^[1-9][0-9]*[mhdw]$"
SIZE_PLACES = 8  # base units; the planner rounds down to the venue step anyway
RATIO_PLACES = 4


def closes(bars: Sequence[Bar]) -> np.ndarray | None:
    """Close prices as float64, or None when any close is not a finite positive number."""
    if not bars:
        return np.empty(0)
    arr = np.array([float(b.close) for b in bars], dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        return None
    return arr


def aligned_closes(series: Sequence[Sequence[Bar]], count: int) -> np.ndarray | None:
    """Closes of several symbols on their common bar times, the last ``count`` rows (oldest first).

    Shape (rows, symbols). Aligning on timestamps matters: a missing bar in one series would
    otherwise pair returns from different hours and bias beta toward zero."""
    if not series:
        return None
    common = set.intersection(*({b.ts for b in bars} for bars in series))
    if not common:
        return np.empty((0, len(series)))
    times = sorted(common)[-count:]
    keep = set(times)
    columns = []
    for bars in series:
        by_ts = {b.ts: b for b in bars if b.ts in keep}
        col = closes([by_ts[t] for t in times])
        if col is None:
            return None
        columns.append(col)
    return np.column_stack(columns)


def simple_returns(prices: np.ndarray) -> np.ndarray:
    """Period-over-period returns along axis 0 (prices are positive, checked by ``closes``)."""
    return prices[1:] / prices[:-1] - 1.0


def to_decimal(value: float, places: int) -> Decimal | None:
    """A finite float as a Decimal rounded to ``places`` decimals; None for NaN or infinity."""
    if not math.isfinite(value):
        return None
    return quantize(Decimal(repr(float(value))), places)


def quantize(value: Decimal, places: int) -> Decimal:
    """Round to ``places`` decimals; values too large for the context keep their precision."""
    try:
        out = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return value
    return out if out != 0 else Decimal(0)  # no "-0E-8" in reasons and details


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


def positive_price(price: Decimal | None) -> Decimal | None:
    """The price if usable for valuation (finite and > 0), else None."""
    if price is None or not price.is_finite() or price <= 0:
        return None
    return price


def spot_symbol_for(asset: str, perp_symbol: str, quote: str = "USDT") -> str:
    """'ETH' + 'BTC/USDT:USDT' -> 'ETH/USDT': the spot market in the perp's quote currency."""
    if "/" in perp_symbol:
        quote = perp_symbol.split("/", 1)[1].split(":", 1)[0] or quote
    return f"{asset}/{quote}"
