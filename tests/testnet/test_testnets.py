"""Opt-in: the adapter against real exchange sandboxes. Each venue runs only when its keys are in
the environment (BYBIT_TESTNET_API_KEY/SECRET, BINANCE_DEMO_API_KEY/SECRET); a tiny order and its
cancel run only with HEDGEBOT_TESTNET_TRADE=1 as well."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.port import ExchangePort
from tests.testnet.venue_checks import TRADE_FLAG, read_only, tiny_order_round_trip, trading_enabled

VENUES = {"bybit": "BYBIT_TESTNET", "binance": "BINANCE_DEMO"}  # venue -> key variable prefix


def _keys(venue: str) -> tuple[str | None, str | None]:
    prefix = VENUES[venue]
    return os.environ.get(f"{prefix}_API_KEY"), os.environ.get(f"{prefix}_API_SECRET")


@pytest.fixture(
    params=[
        pytest.param(
            venue,
            marks=pytest.mark.skipif(
                not all(_keys(venue)), reason=f"{prefix}_API_KEY/SECRET not set"
            ),
        )
        for venue, prefix in VENUES.items()
    ]
)
async def port(request: pytest.FixtureRequest) -> AsyncIterator[ExchangePort]:
    key, secret = _keys(request.param)
    made = create_exchange(
        VenueConnection(
            venue=request.param,
            mode="testnet",
            api_key=SecretStr(key or ""),
            api_secret=SecretStr(secret or ""),
        )
    )
    yield made
    await made.close()


@pytest.mark.testnet
async def test_read_only_calls(port: ExchangePort) -> None:
    await read_only(port, "BTC/USDT:USDT", "BTC/USDT")


@pytest.mark.testnet
async def test_tiny_order_and_cancel(port: ExchangePort) -> None:
    if not trading_enabled():
        pytest.skip(f"{TRADE_FLAG}=1 not set")
    await tiny_order_round_trip(port, "BTC/USDT:USDT")
