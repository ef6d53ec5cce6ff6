"""`demo` mode: Bybit's demo trading (mainnet prices, simulated fills) through ccxt's
enable_demo_trading(True), which, unlike a constructor option, switches every API URL."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.exchange.ccxt_adapter import CcxtExchange
from bot.exchange.factory import VenueConnection, create_exchange
from bot.settings import load_runtime


def _conn(**over: object) -> VenueConnection:
    fields: dict = {
        "venue": "bybit",
        "mode": "demo",
        "api_key": SecretStr("K3yK3yK3yK3y"),
        "api_secret": SecretStr("S3cr3tS3cr3tS3cr3t"),
    }
    fields.update(over)
    return VenueConnection(**fields)


async def test_bybit_demo_talks_to_the_demo_hosts_not_the_sandbox() -> None:
    port = create_exchange(_conn())
    try:
        assert isinstance(port, CcxtExchange)
        client = port._client  # type: ignore[attr-defined]
        urls = set(client.urls["api"].values())
        assert urls and all(u.startswith("https://api-demo.") for u in urls), urls
        assert client.options.get("enableDemoTrading") is True
        assert not client.isSandboxModeEnabled
    finally:
        await port.close()


def test_demo_needs_keys_and_no_live_opt_in() -> None:
    with pytest.raises(ConfigError, match="required in demo mode"):
        create_exchange(_conn(api_key=None))
    with pytest.raises(
        ConfigError, match="HEDGEBOT_API_KEY / HEDGEBOT_API_SECRET: required in demo"
    ):
        load_runtime({"mode": "demo"})
    runtime = load_runtime({"mode": "demo", "api_key": "k" * 8, "api_secret": "s" * 8})
    assert runtime.mode == "demo"
