"""Typed access to Bybit request parameters (query string or JSON body); bad values raise
VenueError 10001 like Bybit's "params error"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.sim.bars import from_ms
from bot.sim.errors import params_error

_ABSENT = ("", "None", "null", None)  # ccxt sends a literal orderId=None from fetch_order


class Params:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def get(self, name: str) -> str | None:
        value = self._data.get(name)
        if value in _ABSENT:
            return None
        return value if isinstance(value, str) else str(value)

    def raw(self, name: str) -> Any:
        """The value as sent (a batch's ``request`` list), not coerced to text."""
        return self._data.get(name)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name)
        return default if value is None else value

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise params_error(f"{name} is required")
        return value

    def dec(self, name: str) -> Decimal | None:
        value = self.get(name)
        if value is None:
            return None
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise params_error(f"{name} {value!r} is not a number") from None
        if not result.is_finite():
            raise params_error(f"{name} must be finite")
        return result

    def integer(self, name: str, default: int, low: int = 1, high: int = 1000) -> int:
        value = self.get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise params_error(f"{name} {value!r} is not an integer") from None
        if not low <= number <= high:
            raise params_error(f"{name} must be between {low} and {high}")
        return number

    def flag(self, name: str) -> bool:
        value = self._data.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1") if value is not None else False

    def time(self, name: str) -> datetime | None:
        value = self.get(name)
        if value is None:
            return None
        try:
            return from_ms(int(value))
        except ValueError:
            raise params_error(f"{name} {value!r} is not a millisecond timestamp") from None
