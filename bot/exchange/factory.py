"""Build the ExchangePort for a venue connection: paper (the loopback simulator through ccxt),
testnet (Bybit sandbox, Binance demo trading), demo (the venue's demo trading: mainnet prices,
simulated fills) or live (refused unless explicitly allowed)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async
from pydantic import SecretStr

from bot.domain import MarketKind
from bot.errors import ConfigError
from bot.exchange.budget import RequestBudget
from bot.exchange.ccxt_adapter import BOTH_KINDS, CcxtExchange
from bot.exchange.limits import PACED
from bot.exchange.port import ExchangePort
from bot.exchange.retry import RetryPolicy
from bot.exchange.split import SplitExchange
from bot.exchange.venues import VenueProfile, venue_profile

MODES = ("paper", "testnet", "demo", "live")
LIVE_REFUSED = "mode: live trading needs HEDGEBOT_ALLOW_LIVE=true and --i-understand-live"


@dataclass(frozen=True)
class VenueConnection:
    venue: str  # "bybit" | "binance"
    mode: str  # "paper" | "testnet" | "demo" | "live"
    api_key: SecretStr | None = field(default=None, repr=False)
    api_secret: SecretStr | None = field(default=None, repr=False)
    url: str | None = None  # paper: the simulator base URL, applied after any sandbox switch
    allow_live: bool = False
    timeout_ms: int = 10000
    enable_rate_limit: bool = True

    def __repr__(self) -> str:
        keys = "set" if self.api_key is not None else "none"
        return (
            f"VenueConnection(venue={self.venue!r}, mode={self.mode!r}, keys={keys}, "
            f"url={_display_url(self.url)!r}, allow_live={self.allow_live})"
        )

    __str__ = __repr__


def _display_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"  # no user info, no query


def _problems(conn: VenueConnection) -> list[str]:
    if conn.mode == "live" and not conn.allow_live:
        return [LIVE_REFUSED]
    problems = []
    if conn.mode not in MODES:
        problems.append(f"mode: unknown mode {conn.mode!r} (paper, testnet, demo or live)")
    if conn.mode == "paper" and not conn.url:
        problems.append("venue_url: paper mode talks to the simulator and needs its URL")
    if conn.mode == "paper" and conn.venue != "bybit":
        problems.append("venue: paper mode simulates bybit only")
    if conn.mode in ("testnet", "demo", "live") and (
        conn.api_key is None or conn.api_secret is None
    ):
        problems.append(f"HEDGEBOT_API_KEY / HEDGEBOT_API_SECRET: required in {conn.mode} mode")
    return problems


def ccxt_client(conn: VenueConnection, class_name: str | None = None) -> Any:
    """One configured ccxt client of the connection's venue (the spot class unless named)."""
    problems = _problems(conn)
    if problems:
        raise ConfigError(problems)
    profile = venue_profile(conn.venue)
    return _client(class_name or profile.spot_class, profile, conn)


def _client(
    class_name: str,
    profile: VenueProfile,
    conn: VenueConnection,
    module: Any = ccxt_async,
    *,
    paced: bool = False,
) -> Any:
    """``module``: ccxt.async_support, or ccxt.pro for the websocket client (ccxt_stream.py)."""
    config: dict[str, Any] = copy.deepcopy(dict(profile.config[class_name]))
    # a client the adapter paces by the venue's own windows (limits.py) needs no second limiter
    config["enableRateLimit"] = conn.enable_rate_limit and not (paced and profile.name in PACED)
    config["timeout"] = conn.timeout_ms
    if conn.api_key is not None and conn.api_secret is not None:
        config["apiKey"] = conn.api_key.get_secret_value()
        config["secret"] = conn.api_secret.get_secret_value()
    client = getattr(module, class_name)(config)
    if conn.mode == "demo" or (conn.mode == "testnet" and profile.testnet == "demo"):
        # the method, not a constructor option: only it switches every API URL (ccxt docs)
        client.enable_demo_trading(True)
    elif conn.mode == "testnet":
        client.set_sandbox_mode(True)
    if conn.url:
        # after the sandbox switch, which would replace the URLs again (EXCHANGE-PROTOCOL §2.1)
        _point_at(client, conn.url)
    return client


def _point_at(client: Any, url: str) -> None:
    """Replace scheme and host of every API URL, keeping the path part (Binance has one)."""
    base = url.rstrip("/")
    urls = client.urls["api"]
    if isinstance(urls, str):
        client.urls["api"] = base + urlsplit(urls).path
        return
    client.urls["api"] = {k: base + urlsplit(str(v)).path.rstrip("/") for k, v in urls.items()}


def create_exchange(
    conn: VenueConnection,
    budget: RequestBudget | None = None,
    *,
    retry: RetryPolicy | None = None,
) -> ExchangePort:
    """The port for one account. Both clients of a split account share one request budget."""
    problems = _problems(conn)
    if problems:
        raise ConfigError(problems)
    profile = venue_profile(conn.venue)
    budget = budget if budget is not None else RequestBudget()
    if profile.unified:
        client = _client(profile.spot_class, profile, conn, paced=True)
        return CcxtExchange(client, profile, kinds=BOTH_KINDS, budget=budget, retry=retry)
    spot = CcxtExchange(
        _client(profile.spot_class, profile, conn, paced=True),
        profile,
        kinds=frozenset({MarketKind.SPOT}),
        budget=budget,
        retry=retry,
    )
    perp = CcxtExchange(
        _client(profile.perp_class, profile, conn, paced=True),
        profile,
        kinds=frozenset({MarketKind.PERP}),
        budget=budget,
        retry=retry,
    )
    return SplitExchange(spot, perp)
