"""Lossless number and time conversions for ccxt structures: Decimal through ``str()`` (never
float arithmetic), raw ``info`` strings first, milliseconds as exact integers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

ONE = Decimal(1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Raw = Mapping[str, Any]


def dec(value: Any) -> Decimal | None:
    """A finite Decimal from a string, int or float (via its shortest repr); None if absent."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = str(value).strip()
    if not text:
        return None
    try:
        out = Decimal(text)
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def first_dec(info: Raw | None, keys: Sequence[str], fallback: Any = None) -> Decimal | None:
    """The first raw ``info`` field that holds a number, else the unified fallback."""
    if info:
        for key in keys:
            value = dec(info.get(key))
            if value is not None:
                return value
    return dec(fallback)


def positive_or_none(value: Decimal | None) -> Decimal | None:
    """Venues send "0" or "" for "no price" (market order price, no liquidation price)."""
    return value if value is not None and value > 0 else None


def ms_to_datetime(ms: Any) -> datetime | None:
    value = dec(ms)
    if value is None:
        return None
    whole = int(value)  # exact: no float division of a 13-digit millisecond count
    return EPOCH + timedelta(milliseconds=whole)


def datetime_to_ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - EPOCH) // timedelta(milliseconds=1)


def nested(info: Raw | None, *path: str) -> Any:
    node: Any = info
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
