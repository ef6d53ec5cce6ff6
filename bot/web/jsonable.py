"""Plain JSON for the API: Decimals as exact text (as the CLI prints them), never floats."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from bot.review.render import _json_value


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | datetime):
        return _json_value(value)
    return value


def dec(value: Any) -> Decimal | None:
    """A Decimal from a stored summary value (exact text) or None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None
