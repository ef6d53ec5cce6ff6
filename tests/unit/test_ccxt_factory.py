"""create_exchange: modes, URL override after the sandbox switch, shared budget, no secrets in reprs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.domain import MarketKind
from bot.errors import ConfigError
from bot.exchange.budget import RequestBudget
from bot.exchange.ccxt_adapter import CcxtExchange
from bot.exchange.factory import LIVE_REFUSED, VenueConnection, create_exchange
from bot.exchange.port import ExchangePort
from bot.exchange.split import SplitExchange
from bot.exchange.venues import BINANCE, BYBIT, venue_profile

KEY = "K3yK3yK3yK3y"
SECRET = "S3cr3tS3cr3tS3cr3t"
SIM = "http://127.0.0.1:18080"


def conn(**over: object) -> VenueConnection:
    fields: dict = {
        "venue": "bybit",
        "mode": "paper",
        "api_key": SecretStr(KEY),
        "api_secret": SecretStr(SECRET),
        "url": SIM,
    }
    fields.update(over)
    return VenueConnection(**fields)


@pytest.fixture
async def ports() -> AsyncIterator[list[ExchangePort]]:
    made: list[ExchangePort] = []
    yield made
    for port in made:
        await port.close()


def clients(port: ExchangePort) -> list:
    if isinstance(port, SplitExchange):
        return [port._spot._client, port._perp._client]  # type: ignore[attr-defined]
    assert isinstance(port, CcxtExchange)
    return [port._client]


def test_live_is_refused_without_the_opt_in() -> None:
    with pytest.raises(ConfigError) as info:
        create_exchange(conn(mode="live", url=None))
    assert info.value.problems == [LIVE_REFUSED]


def test_paper_needs_a_url_and_testnet_needs_keys() -> None:
    with pytest.raises(ConfigError, match="venue_url"):
        create_exchange(conn(url=None))
    with pytest.raises(ConfigError, match="HEDGEBOT_API_KEY"):
        create_exchange(conn(mode="testnet", url=None, api_key=None))
    with pytest.raises(ConfigError, match="unknown venue"):
        create_exchange(conn(mode="testnet", venue="kraken", url=None))
    with pytest.raises(ConfigError, match="mode"):
        create_exchange(conn(mode="dream"))


async def test_paper_points_every_bybit_api_at_the_simulator(ports: list) -> None:
    port = create_exchange(conn())
    ports.append(port)
    (client,) = clients(port)
    assert client.id == "bybit"
    assert set(client.urls["api"].values()) == {SIM}
    assert client.apiKey == KEY
    assert client.has["fetchCurrencies"] is False
    assert client.options["fetchMarkets"]["types"] == ["spot", "linear"]
    # the adapter paces Bybit by its own windows (limits.py): ccxt's limiter is off
    assert client.enableRateLimit is False and client.timeout == 10000


async def test_url_override_survives_the_sandbox_switch(ports: list) -> None:
    port = create_exchange(conn(mode="testnet"))
    ports.append(port)
    (client,) = clients(port)
    assert set(client.urls["api"].values()) == {SIM}


async def test_bybit_testnet_uses_the_sandbox_urls(ports: list) -> None:
    port = create_exchange(conn(mode="testnet", url=None, enable_rate_limit=False, timeout_ms=5))
    ports.append(port)
    (client,) = clients(port)
    assert "api-testnet" in client.urls["api"]["public"]
    assert client.enableRateLimit is False and client.timeout == 5


async def test_binance_testnet_is_demo_trading_on_two_clients_sharing_a_budget(
    ports: list,
) -> None:
    budget = RequestBudget(rate=7)
    port = create_exchange(conn(venue="binance", mode="testnet", url=None), budget)
    ports.append(port)
    assert isinstance(port, SplitExchange)
    spot, perp = clients(port)
    assert (spot.id, perp.id) == ("binance", "binanceusdm")
    assert spot.options["enableDemoTrading"] is True and perp.options["enableDemoTrading"] is True
    assert "demo" in str(perp.urls["api"]["fapiPrivate"])
    assert port._spot._budget is budget and port._perp._budget is budget
    assert port._spot.kinds == {MarketKind.SPOT} and port._perp.kinds == {MarketKind.PERP}
    assert spot.options["defaultType"] == "spot"


async def test_binance_override_keeps_the_paths(ports: list) -> None:
    port = create_exchange(conn(venue="binance", mode="testnet", url="http://127.0.0.1:9"))
    ports.append(port)
    _, perp = clients(port)
    assert perp.urls["api"]["fapiPrivateV3"] == "http://127.0.0.1:9/fapi/v3"


async def test_one_account_gets_one_default_budget(ports: list) -> None:
    port = create_exchange(conn(venue="binance", mode="testnet", url=None))
    ports.append(port)
    assert isinstance(port, SplitExchange)
    assert port._spot._budget is port._perp._budget is not None


async def test_no_secret_in_reprs(ports: list) -> None:
    connection = conn(url="http://user:pw@127.0.0.1:18080/?token=abc")
    port = create_exchange(connection)
    ports.append(port)
    split = create_exchange(conn(venue="binance", mode="testnet", url=None))
    ports.append(split)
    for text in (repr(connection), str(connection), repr(port), str(port), repr(split)):
        assert KEY not in text and SECRET not in text
        assert "pw" not in text and "token" not in text
    assert "keys=set" in repr(connection)
    assert isinstance(port, ExchangePort) and isinstance(split, ExchangePort)
    assert "bybit" in repr(port)


def test_profiles_by_name() -> None:
    assert venue_profile("Bybit") is BYBIT and venue_profile("binance") is BINANCE
    assert BYBIT.unified and not BINANCE.unified
    assert BYBIT.funding_paid_positive and not BINANCE.funding_paid_positive
    assert "110043" in BYBIT.leverage_unchanged_codes
