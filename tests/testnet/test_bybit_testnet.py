"""Opt-in: the adapter against the real Bybit testnet (needs BYBIT_TESTNET_API_KEY/SECRET)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.port import ExchangePort
from tests.testnet.venue_checks import TRADE_FLAG, read_only, tiny_order_round_trip, trading_enabled

KEY, SECRET = os.environ.get("BYBIT_TESTNET_API_KEY"), os.environ.get("BYBIT_TESTNET_API_SECRET")
pytestmark = [
    pytest.mark.testnet,
    pytest.mark.skipif(not (KEY and SECRET), reason="BYBIT_TESTNET_API_KEY/SECRET not set"),
]


@pytest.fixture
async def port() -> AsyncIterator[ExchangePort]:
    made = create_exchange(
        VenueConnection(
            venue="bybit",
            mode="testnet",
            api_key=SecretStr(KEY or ""),
            api_secret=SecretStr(SECRET or ""),
            url=None,
        )
    )
    yield made
    await made.close()


async def test_read_only_calls(port: ExchangePort) -> None:
    await read_only(port, "BTC/USDT:USDT", "BTC/USDT")


async def test_tiny_order_and_cancel(port: ExchangePort) -> None:
    if not trading_enabled():
        pytest.skip(f"{TRADE_FLAG}=1 not set")
    await tiny_order_round_trip(port, "BTC/USDT:USDT")
