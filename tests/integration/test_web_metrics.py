"""/metrics: scraped and parsed with prometheus_client's own parser, checked against the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import control
from bot.store import Store
from tests.integration.web_seed import client, seeded_store


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    async with seeded_store(tmp_path) as s:
        yield s


async def scrape(store: Store) -> tuple[dict, dict]:
    async with client(store) as c:
        r = await c.get("/metrics")
        status = (await c.get("/api/status")).json()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples, status


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_per_hedge_and_account_gauges_match_the_api(store):
    samples, status = await scrape(store)
    for h in status["hedges"]:
        key = {"hedge": h["hedge"], "symbol": h["symbol"]}
        assert value(samples, "hedgebot_hedge_target_size", **key) == float(h["target"])
        assert value(samples, "hedgebot_hedge_current_size", **key) == float(h["perp"])
        assert value(samples, "hedgebot_hedge_deviation", **key) == float(h["deviation"])
        assert value(samples, "hedgebot_hedge_ratio", **key) == float(h["ratio"])
        assert value(samples, "hedgebot_hedge_funding_received", **key) == float(
            h["funding_received"]
        )
        dist = samples.get(("hedgebot_hedge_liquidation_distance", tuple(sorted(key.items()))))
        if h["liquidation_distance"] is None:
            assert dist is None  # no sample rather than a made-up number
        else:
            assert dist == pytest.approx(float(D(h["liquidation_distance"])))
    account = status["account"]
    assert value(samples, "hedgebot_account_margin_ratio") == float(account["margin_ratio"])
    assert value(samples, "hedgebot_account_min_liquidation_distance") == float(
        account["min_liquidation_distance"]
    )
    assert value(samples, "hedgebot_account_equity") == float(account["margin_equity"])
    assert value(samples, "hedgebot_last_cycle") == 8
    assert value(samples, "hedgebot_cycle_duration_seconds") >= 0
    assert value(samples, "hedgebot_trading_state", state="active") == 1


async def test_counts_follow_the_database(store):
    samples, _ = await scrape(store)
    assert value(samples, "hedgebot_orders_total", purpose="hedge", status="filled") == 2
    assert value(samples, "hedgebot_orders_total", purpose="stop", status="open") == 2
    assert value(samples, "hedgebot_cycles_total", outcome="ok") == 8
    assert value(samples, "hedgebot_halts_total") == 0
    assert value(samples, "hedgebot_venue_errors_total", kind="read_failed") == 0
    await control.halt(store, "metrics test")
    await store.add_event("halted", "fatal venue error: bad key", level="error")
    await store.add_event("cycle_skipped", "venue read failed: HTTP 503", level="warning")
    samples, _ = await scrape(store)
    assert value(samples, "hedgebot_halts_total") == 2
    assert value(samples, "hedgebot_venue_errors_total", kind="fatal") == 1
    assert value(samples, "hedgebot_venue_errors_total", kind="read_failed") == 1
    assert value(samples, "hedgebot_trading_state", state="halted") == 1
    assert value(samples, "hedgebot_trading_state", state="active") == 0


async def test_an_empty_database_still_scrapes(tmp_path):
    from bot.store.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    await upgrade(url)
    store = Store.from_url(url)
    try:
        samples, _ = await scrape(store)
    finally:
        await store.close()
    assert value(samples, "hedgebot_trading_state", state="active") == 1
    assert not any(name == "hedgebot_last_cycle" for name, _ in samples)
