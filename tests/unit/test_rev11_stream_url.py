"""Review of issue 11: the stream's websocket URLs follow the venue URL as the REST ones do.

With a venue URL that has a path (a simulator behind a reverse proxy at http://host/bybit), REST
went to http://host/bybit/v5/... but the stream to ws://host/v5/private: it never connected, and
stream mode stayed off after one warning while REST cycles ran as if it were on.
"""

from __future__ import annotations

from pydantic import SecretStr

from bot.exchange.ccxt_stream import stream_client
from bot.exchange.factory import VenueConnection


def connection(url: str) -> VenueConnection:
    return VenueConnection(
        venue="bybit",
        mode="paper",
        api_key=SecretStr("hedgebot-sim-key"),
        api_secret=SecretStr("hedgebot-sim-secret"),
        url=url,
    )


def test_a_venue_url_with_a_path_keeps_it_for_the_websockets() -> None:
    ws = stream_client(connection("https://proxy.example:8443/bybit/"), 10.0).urls["api"]["ws"]
    assert ws["private"]["contract"] == "wss://proxy.example:8443/bybit/v5/private"
    assert ws["public"]["linear"] == "wss://proxy.example:8443/bybit/v5/public/linear"


def test_a_plain_venue_url_is_unchanged() -> None:
    ws = stream_client(connection("http://127.0.0.1:8765"), 10.0).urls["api"]["ws"]
    assert ws["private"]["contract"] == "ws://127.0.0.1:8765/v5/private"
