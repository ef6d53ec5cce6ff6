"""The JSON API over a database the paper rig filled: status, hedges, listings with the CLI's
filters, the value series, the period report and the control endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest

from bot.domain import IntentPurpose, IntentStatus
from bot.store import Store
from tests.integration.web_seed import client, seeded_store

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    async with seeded_store(tmp_path) as s:
        yield s


async def test_status_has_state_last_cycle_account_and_hedges(store):
    async with client(store) as c:
        status = (await c.get("/api/status")).json()
    assert status["trading_state"] == "active"
    assert status["last_cycle"]["number"] == 8 and status["last_cycle"]["outcome"] == "ok"
    assert D(status["account"]["total_value"]) > 0 and status["account"]["cycle"] == 8
    by_hedge = {h["hedge"]: h for h in status["hedges"]}
    assert set(by_hedge) == {"btc", "eth"}
    btc = by_hedge["btc"]
    assert (
        btc["perp"] == "-2.000" and D(btc["target"]) == D(-2) and btc["reason"].startswith("direct")
    )
    assert D(btc["spot"]) == D(2) and D(btc["ratio"]) == 1 and D(btc["deviation"]) == 0
    assert btc["why_no_order"] == ""  # on target: nothing to explain


async def test_hedges_match_the_stored_stops_funding_and_positions(store):
    async with client(store) as c:
        rows = {h["hedge"]: h for h in (await c.get("/api/hedges")).json()}
    stops = await store.intents(statuses=[IntentStatus.OPEN], purpose=IntentPurpose.STOP)
    funding = await store.funding()
    for row in rows.values():
        stop = next(s for s in stops if s.symbol == row["symbol"])
        assert row["stop_trigger"] == format(stop.trigger_price, "f")
        paid = sum((p.amount for p in funding if p.symbol == row["symbol"]), D(0))
        assert D(row["funding_received"]) == paid and paid != 0
        if row["liquidation_price"] is None:  # the venue names none (far beyond its price limit)
            assert row["liquidation_distance"] is None
            continue
        dist = D(row["liquidation_distance"])
        mark, liq = D(row["mark"]), D(row["liquidation_price"])
        assert dist == (liq - mark) / mark  # a short: liquidation above the mark
    assert any(row["liquidation_distance"] for row in rows.values())


async def test_amounts_are_the_stored_decimal_text_never_floats(store):
    async with client(store) as c:
        fills = (await c.get("/api/fills", params={"limit": 0})).json()
    stored = {f.trade_id: f for f in await store.fills()}
    assert len(fills) == len(stored) == 2
    for f in fills:
        s = stored[f["trade_id"]]
        assert isinstance(f["qty"], str) and f["qty"] == format(s.qty, "f")
        assert f["price"] == format(s.price, "f") and f["fee"] == format(s.fee, "f")


async def test_listings_take_the_cli_filters(store):
    async with client(store) as c:
        get = lambda path, **p: c.get(path, params=p)  # noqa: E731
        btc = (await get("/api/funding", symbol="BTC/USDT:USDT", limit=0)).json()
        assert btc and {r["symbol"] for r in btc} == {"BTC/USDT:USDT"}
        eth = (await get("/api/fills", hedge="eth")).json()
        assert [r["hedge"] for r in eth] == ["eth"]
        assert len((await get("/api/orders", limit=1)).json()) == 1
        assert (await get("/api/orders", since="2030-01-01")).json() == []
        early = (await get("/api/funding", until="2024-03-01T12:00", limit=0)).json()
        assert early and all(r["time"] < "2024-03-01T12:00" for r in early)
        assert len(early) < len((await get("/api/funding", limit=0)).json())
        bad = await get("/api/fills", since="yesterday-ish")
        assert bad.status_code == 422 and "since" in bad.json()["detail"]
        assert (await get("/api/rejections")).json() == []


async def test_values_start_equal_and_the_hedge_holds_its_value(store):
    async with client(store) as c:
        values = (await c.get("/api/values")).json()
        thinned = (await c.get("/api/values", params={"points": 3})).json()
    assert [v["cycle"] for v in values] == list(range(1, 9))
    assert values[0]["hedged"] == values[0]["unhedged"]
    hedged = [D(v["hedged"]) for v in values]
    unhedged = [D(v["unhedged"]) for v in values]
    assert max(hedged) - min(hedged) < (max(unhedged) - min(unhedged)) / 10
    assert [v["cycle"] for v in thinned] == [1, 5, 8] and thinned[-1] == values[-1]


async def test_report_for_a_period_is_hedgebot_report(store):
    from bot.review import report as rep

    async with client(store) as c:
        report = (await c.get("/api/report")).json()
        later = (await c.get("/api/report", params={"since": "2024-03-01T09:00"})).json()
        btc = (await c.get("/api/report", params={"hedge": "btc"})).json()
        empty = await c.get("/api/report", params={"since": "2030-01-01"})
        funding = (await c.get("/api/funding", params={"limit": 0})).json()
    assert report == rep.to_json(rep.build(await rep.load(store)))  # the CLI's report, as JSON
    assert set(report["hedges"]) == {"btc", "eth"} and report["total"]["effectiveness"] > 0.9
    assert D(report["total"]["funding"]) == sum(D(f["amount"]) for f in funding)
    assert later["period"]["from"] > report["period"]["from"]
    assert set(btc["hedges"]) == {"btc"}
    assert empty.status_code == 404 and "nothing to report" in empty.json()["detail"]


async def test_control_needs_the_token_and_persists_the_state(store):
    async with client(store) as open_client:
        refused = await open_client.post("/api/control/halt", json={"reason": "x"})
        assert refused.status_code == 403 and "HEDGEBOT_API_TOKEN" in refused.json()["detail"]
    assert (await store.trading_state())[0].value == "active"
    async with client(store, TOKEN) as c:
        assert (await c.post("/api/control/halt", json={"reason": "x"})).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        r = await c.post("/api/control/halt", json={"reason": "checking a fill"}, headers=auth)
        assert r.status_code == 200 and r.json()["before"] == "active"
        assert (await store.trading_state())[0].value == "halted"
        status = (await c.get("/api/status", headers=auth)).json()
        assert status["trading_state"] == "halted" and status["reason"] == "checking a fill"
        r = await c.post("/api/control/resume", headers=auth)
        assert r.status_code == 200 and r.json()["before"] == "halted"
        kinds = [e["kind"] for e in (await c.get("/api/events", headers=auth)).json()]
    assert kinds[:2] == ["resumed", "halted"]
    assert (await store.trading_state())[0].value == "active"


async def test_openapi_documents_every_endpoint(store):
    async with client(store) as c:
        assert (await c.get("/docs")).status_code == 200
        paths = (await c.get("/openapi.json")).json()["paths"]
    for name in ("status", "hedges", "orders", "fills", "funding", "events", "rejections"):
        assert f"/api/{name}" in paths
    assert {"/api/report", "/api/values", "/api/control/halt", "/api/control/resume"} <= set(paths)
    params = {p["name"] for p in paths["/api/fills"]["get"]["parameters"]}
    assert params == {"since", "until", "symbol", "hedge", "limit"}


async def test_flatten_records_the_request_the_daemon_acts_on(store):
    from bot.flatten import flattened

    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with client(store, TOKEN) as c:
        assert (await c.post("/api/control/flatten", json={"hedges": ["btc"]})).status_code == 401
        bad = await c.post("/api/control/flatten", json={"hedges": ["doge"]}, headers=auth)
        assert bad.status_code == 422 and "known: btc, eth" in bad.json()["detail"]
        r = await c.post("/api/control/flatten", json={"hedges": ["btc"]}, headers=auth)
        assert r.status_code == 200 and r.json()["flattened"] == ["btc"]
        assert await flattened(store) == {"btc"}
        assert (await c.get("/api/status", headers=auth)).json()["flattened"] == ["btc"]
        everything = await c.post("/api/control/flatten", headers=auth)
        assert everything.json()["flattened"] == ["btc", "eth"]
        assert "halted" not in everything.json()["note"]
        await c.post("/api/control/halt", headers=auth)
        halted = (await c.post("/api/control/flatten", headers=auth)).json()
        assert halted["trading_state"] == "halted" and "closes these shorts" in halted["note"]
        assert "stays halted for every other order" in halted["note"]
        await c.post("/api/control/resume", headers=auth)
        back = await c.post("/api/control/resume", json={"hedges": ["eth"]}, headers=auth)
        assert back.json() == {"hedging_again": ["eth"], "flattened": ["btc"]}
        kinds = [e["kind"] for e in (await c.get("/api/events", headers=auth)).json()]
    assert kinds == ["unflattened", "resumed", "flattened", "halted", "flattened", "flattened"]
    assert await flattened(store) == {"btc"}


async def test_a_flatten_sent_through_the_api_closes_the_short_at_the_next_cycles(tmp_path):
    from tests.integration.paper import make_paper, perp_size

    paper = await make_paper(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    try:
        for _ in range(2):
            await paper.cycle()
        assert perp_size(await paper.port.fetch_positions(), "BTC/USDT:USDT") == D(-2)
        async with client(paper.store, TOKEN) as c:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            r = await c.post("/api/control/flatten", json={"hedges": ["btc"]}, headers=auth)
            assert r.status_code == 200
        for _ in range(2):
            await paper.cycle()
        positions = await paper.port.fetch_positions()
        assert perp_size(positions, "BTC/USDT:USDT") == 0
        assert perp_size(positions, "ETH/USDT:USDT") == D(-30)
    finally:
        await paper.close()
