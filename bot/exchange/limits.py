"""Bybit v5's documented request limits, and the hook that paces a ccxt client by them.

Source: https://bybit-exchange.github.io/docs/v5/rate-limit (default, non-PRO unified account).
Per UID and per endpoint, a rolling one-second window; batch endpoints count every order of the
batch; on top, 600 HTTP requests per 5 s per IP. Past a UID limit Bybit answers retCode 10006
"Too many visits!" (HTTP 200); past the IP limit HTTP 429 (403 after repeated abuse). Every answer
carries X-Bapi-Limit, X-Bapi-Limit-Status and X-Bapi-Limit-Reset-Timestamp.

The simulator enforces this very table (bot/sim/ratelimit.py); the bot paces every HTTP request
of its ccxt clients by it (``pace``), so ccxt's own limiter (one request every 100 ms per client,
whatever the endpoint) is switched off for Bybit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PACED = frozenset({"bybit"})  # venues whose windows the table below holds
IP_LIMIT = (600, 5.0)  # requests, seconds: every endpoint, public ones included
# order placement limits per category (UTA default): batch endpoints count per order
_TRADE = {"linear": 10, "inverse": 10, "option": 10, "spot": 20}
_TRADE_PATHS = (
    "v5/order/create",
    "v5/order/amend",
    "v5/order/cancel",
    "v5/order/create-batch",
    "v5/order/amend-batch",
    "v5/order/cancel-batch",
    "v5/order/cancel-all",
)
# reads and account settings: one limit whatever the category
_FLAT = {
    "v5/order/realtime": 50,
    "v5/order/history": 50,
    "v5/execution/list": 50,
    "v5/position/list": 50,
    "v5/position/closed-pnl": 50,
    "v5/position/set-leverage": 10,
    "v5/account/wallet-balance": 50,
    "v5/account/fee-rate": 10,
    "v5/account/info": 50,
    "v5/account/transaction-log": 30,
    "v5/user/query-api": 10,
}


@dataclass(frozen=True)
class Endpoint:
    """One UID window: ``key`` names it, ``limit`` requests (orders) per second."""

    key: str
    limit: int


def endpoint(path: str, params: Mapping[str, Any] | None) -> Endpoint | None:
    """The UID window a request draws on; None for public market data (IP limit only)."""
    path = path.strip("/")
    params = params or {}
    if path in _TRADE_PATHS:
        category = str(params.get("category") or "linear")
        limit = _TRADE.get(category, 10)
        # Bybit counts create, amend and cancel (single and batch) of one category separately
        return Endpoint(f"{path.removesuffix('-batch')}:{category}", limit)
    if path in _FLAT:
        return Endpoint(path, _FLAT[path])
    return None


def cost(path: str, params: Mapping[str, Any] | None) -> int:
    """Units a request draws: one, or one per order of a batch."""
    if path.strip("/").endswith("-batch"):
        orders = (params or {}).get("request")
        if isinstance(orders, list):
            return max(1, len(orders))
    return 1
