"""The one place where ccxt exceptions become the project's error tree (bot/errors.py).

Rules, in the order they are applied:
- the venue refused a definite request (bad order, funds, params) -> OrderRejected on order
  operations, FatalExchangeError on everything else (a read the venue calls malformed is our bug);
- credentials, permissions, unknown symbols, unsupported calls -> FatalExchangeError;
- rate limits -> RateLimited; other network trouble and unmapped venue codes -> TransientError;
- on ``create_order`` every outcome that may have reached the matching engine (timeouts, dropped
  connections, 5xx, unparseable or unmapped answers) -> AmbiguousSubmit, never a retryable error.
  A rate limit or a rejected timestamp is a definite refusal: the venue answered before processing.

ccxt messages carry the request URL and the response body; Binance signs in the query string, so
every message is sanitised (query strings, header-like and secret-like fields, known secrets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ccxt.base import errors as ccxt_errors

from bot.errors import (
    AmbiguousSubmit,
    ExchangeError,
    FatalExchangeError,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TransientError,
)

CREATE_ORDER = "create_order"
ORDER_OPERATIONS = frozenset({CREATE_ORDER, "cancel_order", "amend_order"})

# A definite answer from the venue that the request was refused before it was processed.
_REFUSED_BEFORE_PROCESSING = (
    ccxt_errors.RateLimitExceeded,
    ccxt_errors.DDoSProtection,
    ccxt_errors.InvalidNonce,
)
_FATAL = (
    ccxt_errors.AuthenticationError,  # includes PermissionDenied, AccountSuspended, ...
    ccxt_errors.BadSymbol,
    ccxt_errors.NotSupported,
    ccxt_errors.ArgumentsRequired,  # raised by ccxt before sending: a bug in how we call it
    ccxt_errors.InvalidProxySettings,
    ccxt_errors.ExchangeClosedByUser,
    ccxt_errors.RestrictedLocation,
    ccxt_errors.ManualInteractionNeeded,
    ccxt_errors.InvalidAddress,
)
_REFUSED = (
    ccxt_errors.InvalidOrder,
    ccxt_errors.InsufficientFunds,
    ccxt_errors.BadRequest,
    ccxt_errors.OperationRejected,
)

_MAX_MESSAGE = 500
_URL_QUERY = re.compile(r"(https?://[^\s?#\"']+)\?[^\s\"']*")
_SECRET_FIELD = re.compile(
    r"(?i)(?<![a-z0-9_])([\"']?(?:x-[a-z0-9-]+|api[-_]?key|secret|signature|sign|passphrase|"
    r"password|authorization|token)[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,&}]+)"
)
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def sanitize(message: str, secrets: Iterable[str | None] = ()) -> str:
    """Strip query strings, header/secret-like fields and any known secret from a message."""
    text = _URL_QUERY.sub(r"\1?<redacted>", message)
    text = _SECRET_FIELD.sub(r"\1<redacted>", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + "..."
    return text


def venue_detail(message: str) -> tuple[str | None, str | None]:
    """(code, venue message) from the JSON body ccxt puts in its message, when there is one."""
    match = _JSON_OBJECT.search(message)
    if match is None:
        return None, None
    try:
        body = json.loads(match.group(0))
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("retCode", body.get("code"))
    text = body.get("retMsg", body.get("msg"))
    return (
        str(code) if code is not None else None,
        str(text) if text not in (None, "") else None,
    )


def _kind(exc: BaseException, operation: str) -> type[ExchangeError]:
    creating = operation == CREATE_ORDER
    if not isinstance(exc, ccxt_errors.BaseError):
        # aiohttp/asyncio/OS errors that escaped ccxt, or a parsing failure on our side
        return AmbiguousSubmit if creating else TransientError
    if isinstance(exc, ccxt_errors.OrderNotFound) and not creating:
        return OrderNotFound
    if isinstance(exc, _FATAL):
        return FatalExchangeError
    if isinstance(exc, _REFUSED):
        return OrderRejected if operation in ORDER_OPERATIONS else FatalExchangeError
    if isinstance(exc, ccxt_errors.RateLimitExceeded | ccxt_errors.DDoSProtection):
        return RateLimited
    if creating and not isinstance(exc, _REFUSED_BEFORE_PROCESSING):
        return AmbiguousSubmit
    # NetworkError, OperationFailed, BadResponse, CancelPending, an unmapped ExchangeError code
    return TransientError


def classify(
    exc: BaseException, operation: str, *, secrets: Iterable[str | None] = ()
) -> ExchangeError:
    """Map any exception raised by a ccxt call to the project's error tree. Total: never raises."""
    if isinstance(exc, ExchangeError):
        if not exc.operation:
            exc.operation = operation
        return exc
    kind = _kind(exc, operation)
    secrets = tuple(secrets)
    raw = sanitize(str(exc), secrets)
    code, venue_message = venue_detail(str(exc))
    if venue_message:
        venue_message = sanitize(venue_message, secrets)
    if kind is OrderRejected and venue_message:
        # the venue's own words are the reason the operator reads
        message = f"{venue_message} (code {code})" if code else venue_message
    else:
        message = f"{operation}: {type(exc).__name__}" + (f": {raw}" if raw else "")
    return kind(message, operation=operation, code=code)


def is_duplicate_client_id(exc: BaseException) -> bool:
    """The venue already holds an order with this client id (an earlier attempt got through)."""
    if isinstance(exc, ccxt_errors.DuplicateOrderId):
        return True
    if not isinstance(exc, ccxt_errors.InvalidOrder):
        return False
    code, text = venue_detail(str(exc))
    return code == "110072" or (text is not None and "duplicate" in text.lower())


def is_code(exc: BaseException, codes: Iterable[str]) -> bool:
    code, _ = venue_detail(str(exc))
    return code is not None and code in set(codes)
