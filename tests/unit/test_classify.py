"""classify(): every ccxt exception x every port operation maps into bot.errors, totally and safely."""

from __future__ import annotations

import inspect

import aiohttp
import pytest
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
from bot.exchange.classify import classify, is_duplicate_client_id, sanitize, venue_detail
from bot.exchange.port import ExchangePort

CCXT_CLASSES = sorted(
    (
        cls
        for cls in vars(ccxt_errors).values()
        if inspect.isclass(cls) and issubclass(cls, ccxt_errors.BaseError)
    ),
    key=lambda c: c.__name__,
)
OPERATIONS = sorted(
    name
    for name, member in vars(ExchangePort).items()
    if not name.startswith("_") and inspect.iscoroutinefunction(member)
)
# The venue answered and refused before processing: the order certainly does not exist.
DEFINITE_REFUSALS = (
    ccxt_errors.RateLimitExceeded,
    ccxt_errors.DDoSProtection,
    ccxt_errors.InvalidNonce,
)
SECRET_KEY = "AKIAsecretKEY123"
SECRET = "s3cr3tS3cr3tVALUE"


def test_introspection_found_every_class_and_operation() -> None:
    assert len(CCXT_CLASSES) >= 40
    assert {"create_order", "cancel_order", "fetch_order", "fetch_positions"} <= set(OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("cls", CCXT_CLASSES, ids=lambda c: c.__name__)
def test_mapping_is_total_and_safe(cls: type[Exception], operation: str) -> None:
    message = (
        f"bybit GET http://127.0.0.1:1/v5/x?apiKey={SECRET_KEY}&sign=abc "
        f'{{"retCode":10001,"retMsg":"params error"}}'
    )
    error = classify(cls(message), operation, secrets=[SECRET_KEY, SECRET])
    assert isinstance(error, ExchangeError)
    assert error.operation == operation
    assert SECRET_KEY not in str(error)
    if operation == "create_order":
        # an outcome that may have been accepted is never handed back as a retryable error
        if isinstance(error, TransientError):
            assert issubclass(cls, DEFINITE_REFUSALS)
        assert not isinstance(error, OrderNotFound)
    else:
        assert not isinstance(error, AmbiguousSubmit)


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (ccxt_errors.RequestTimeout, AmbiguousSubmit),
        (ccxt_errors.NetworkError, AmbiguousSubmit),
        (ccxt_errors.ExchangeNotAvailable, AmbiguousSubmit),
        (ccxt_errors.OnMaintenance, AmbiguousSubmit),
        (ccxt_errors.BadResponse, AmbiguousSubmit),
        (ccxt_errors.NullResponse, AmbiguousSubmit),
        (ccxt_errors.OperationFailed, AmbiguousSubmit),
        (ccxt_errors.ExchangeError, AmbiguousSubmit),  # unmapped code, e.g. 10016
        (ccxt_errors.RateLimitExceeded, RateLimited),
        (ccxt_errors.DDoSProtection, RateLimited),
        (ccxt_errors.InvalidNonce, TransientError),
        (ccxt_errors.InsufficientFunds, OrderRejected),
        (ccxt_errors.InvalidOrder, OrderRejected),
        (ccxt_errors.BadRequest, OrderRejected),
        (ccxt_errors.OrderImmediatelyFillable, OrderRejected),
        (ccxt_errors.AuthenticationError, FatalExchangeError),
        (ccxt_errors.PermissionDenied, FatalExchangeError),
        (ccxt_errors.BadSymbol, FatalExchangeError),
        (ccxt_errors.NotSupported, FatalExchangeError),
    ],
)
def test_create_order_mapping(cls: type[Exception], expected: type[ExchangeError]) -> None:
    assert type(classify(cls("bybit boom"), "create_order")) is expected


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (ccxt_errors.RequestTimeout, TransientError),
        (ccxt_errors.ExchangeNotAvailable, TransientError),
        (ccxt_errors.ExchangeError, TransientError),
        (ccxt_errors.OperationFailed, TransientError),
        (ccxt_errors.RateLimitExceeded, RateLimited),
        (ccxt_errors.OrderNotFound, OrderNotFound),
        (ccxt_errors.AuthenticationError, FatalExchangeError),
        (ccxt_errors.BadRequest, FatalExchangeError),
        (ccxt_errors.BadSymbol, FatalExchangeError),
    ],
)
def test_read_mapping(cls: type[Exception], expected: type[ExchangeError]) -> None:
    assert type(classify(cls("bybit boom"), "fetch_positions")) is expected


def test_cancel_refusal_is_an_order_rejection_and_unknown_order_is_not_found() -> None:
    assert type(classify(ccxt_errors.InvalidOrder("x"), "cancel_order")) is OrderRejected
    assert type(classify(ccxt_errors.OrderNotFound("x"), "cancel_order")) is OrderNotFound


@pytest.mark.parametrize(
    "exc",
    [TimeoutError(), aiohttp.ClientConnectionError("reset"), OSError("x"), KeyError("id")],
)
def test_non_ccxt_failures_are_ambiguous_on_create_and_transient_elsewhere(exc: Exception) -> None:
    assert type(classify(exc, "create_order")) is AmbiguousSubmit
    assert type(classify(exc, "fetch_tickers")) is TransientError


def test_an_already_classified_error_passes_through_with_its_operation() -> None:
    original = RateLimited("slow down")
    assert classify(original, "fetch_balances") is original
    assert original.operation == "fetch_balances"


def test_rejection_keeps_the_venue_reason_and_code() -> None:
    body = '{"retCode":110007,"retMsg":"ab not enough for new order","result":{},"time":1}'
    error = classify(ccxt_errors.InsufficientFunds("bybit " + body), "create_order")
    assert isinstance(error, OrderRejected)
    assert "ab not enough for new order" in str(error)
    assert error.code == "110007"


def test_binance_style_body_gives_code_and_message() -> None:
    assert venue_detail('binance {"code":-2019,"msg":"Margin is insufficient."}') == (
        "-2019",
        "Margin is insufficient.",
    )
    assert venue_detail("no json here") == (None, None)
    assert venue_detail("bybit {not json") == (None, None)


def test_sanitize_strips_query_strings_headers_and_known_secrets() -> None:
    raw = (
        f"binance POST https://fapi.binance.com/fapi/v1/order?timestamp=1&signature=deadbeef "
        f"{{'X-MBX-APIKEY': '{SECRET_KEY}', 'X-BAPI-SIGN': 'cafe'}} "
        f'{{"apiKey": "{SECRET_KEY}", "secret": "{SECRET}"}} password=hunter2 '
        f"echo {SECRET}"
    )
    clean = sanitize(raw, [SECRET_KEY, SECRET])
    for leaked in (SECRET_KEY, SECRET, "deadbeef", "cafe", "hunter2", "timestamp=1"):
        assert leaked not in clean
    assert "https://fapi.binance.com/fapi/v1/order" in clean  # the path stays: it helps debugging


def test_sanitize_bounds_the_length() -> None:
    assert len(sanitize("x" * 5000)) < 600


def test_classified_message_names_operation_and_ccxt_class_without_query() -> None:
    exc = ccxt_errors.RequestTimeout(
        "bybit GET http://127.0.0.1:8/v5/position/list?settleCoin=USDT&category=linear"
    )
    error = classify(exc, "fetch_positions")
    assert str(error).startswith("fetch_positions: RequestTimeout: ")
    assert "settleCoin" not in str(error)
    assert "/v5/position/list" in str(error)


def test_duplicate_client_id_detection() -> None:
    dup = '{"retCode":110072,"retMsg":"OrderLinkedID is duplicate"}'
    assert is_duplicate_client_id(ccxt_errors.InvalidOrder("bybit " + dup))
    assert is_duplicate_client_id(ccxt_errors.DuplicateOrderId("x"))
    assert not is_duplicate_client_id(ccxt_errors.InvalidOrder('bybit {"retCode":110017}'))
    assert not is_duplicate_client_id(ccxt_errors.RequestTimeout("duplicate"))
