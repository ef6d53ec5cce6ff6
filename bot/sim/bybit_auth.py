"""Bybit v5 request signing, as ccxt does it:

    sign = hex(HMAC_SHA256(secret, X-BAPI-TIMESTAMP + apiKey + X-BAPI-RECV-WINDOW + payload))

with payload the raw query string (GET) or the raw body (POST). The recv-window check uses the
real wall clock, because ccxt signs with wall time whatever the simulated market time is.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_RECV_WINDOW = 5000
FUTURE_TOLERANCE_MS = 1000  # Bybit accepts timestamps at most 1 s ahead of its clock


class AuthError(Exception):
    def __init__(self, http_status: int, ret_code: int, message: str) -> None:
        self.http_status = http_status
        self.ret_code = ret_code
        self.message = message
        super().__init__(f"{ret_code} {message}")


@dataclass(frozen=True)
class Credentials:
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


def sign(secret: str, timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    message = f"{timestamp}{api_key}{recv_window}{payload}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], payload: str, creds: Credentials, now_ms: int) -> None:
    """Raise AuthError with Bybit's code: 10003 bad key (HTTP 401), 10002 timestamp outside the
    recv window, 10004 bad signature."""
    key = headers.get("X-BAPI-API-KEY", "")
    if not key or not hmac.compare_digest(key, creds.api_key):
        raise AuthError(401, 10003, "API key is invalid.")
    raw_ts = headers.get("X-BAPI-TIMESTAMP", "")
    raw_window = headers.get("X-BAPI-RECV-WINDOW", str(DEFAULT_RECV_WINDOW))
    try:
        timestamp, window = int(raw_ts), int(raw_window)
    except ValueError:
        raise AuthError(200, 10002, "invalid request, please check your timestamp") from None
    if not now_ms - window <= timestamp < now_ms + FUTURE_TOLERANCE_MS:
        raise AuthError(
            200,
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{window}]",
        )
    expected = sign(creds.api_secret, raw_ts, key, raw_window, payload)
    if not hmac.compare_digest(headers.get("X-BAPI-SIGN", ""), expected):
        raise AuthError(200, 10004, "error sign! please check your signature")
