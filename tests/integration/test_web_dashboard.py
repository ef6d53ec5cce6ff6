"""The dashboard in headless Chromium: it renders the API's data (state, hedges table, value
chart, events), refreshes by itself, loads nothing from outside, and leaves a screenshot."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bot import control
from bot.web.security import WebOptions
from bot.web.server import beside_daemon
from tests.browser import Chromium, needs_chromium
from tests.integration.web_seed import client, seeded_store

pytestmark = needs_chromium

TABLE = """[...document.querySelectorAll('#hedges tbody tr')].map(tr => Object.fromEntries(
  [...tr.children].map(td => [td.dataset.field, {value: td.dataset.value, text: td.textContent}])))"""
CHART = """(() => { const c = document.getElementById('chart');
  return {points: Number(c.dataset.points), lo: Number(c.dataset.lo), hi: Number(c.dataset.hi),
    lines: [...c.querySelectorAll('polyline')].map(p => ({series: p.dataset.series,
      last: p.dataset.last, ys: p.getAttribute('points').split(' ').map(xy => Number(xy.split(',')[1]))}))};
})()"""
RESOURCES = "performance.getEntriesByType('resource').map(e => e.name)"


def _pct(text: str) -> float:
    return float(text.rstrip("%")) / 100


async def test_dashboard_shows_what_the_api_says(tmp_path):
    async with seeded_store(tmp_path) as store:
        async with client(store) as api:
            status = (await api.get("/api/status")).json()
            values = (await api.get("/api/values")).json()
        db_url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
        async with beside_daemon(WebOptions(port=0), db_url) as base:
            assert base is not None
            async with Chromium.start(tmp_path) as browser:
                page = await browser.open(f"{base}?refresh=0.3")
                await page.wait_for("Number(document.body.dataset.rendered) > 0")
                assert await page.evaluate("document.getElementById('state').textContent") == (
                    "active"
                )
                rows = await page.evaluate(TABLE)
                chart = await page.evaluate(CHART)
                resources = await page.evaluate(RESOURCES)
                shot = await page.screenshot(tmp_path / "dashboard.png")
                print(f"dashboard screenshot: {shot}")
                await control.halt(store, "checking the dashboard")
                await page.wait_for(
                    "document.getElementById('state').dataset.state === 'halted' && "
                    "document.getElementById('reason').textContent === 'checking the dashboard'"
                )
    assert len(rows) == len(status["hedges"]) == 2
    for row, hedge in zip(rows, status["hedges"], strict=True):
        raw = ("hedge", "symbol", "spot", "perp", "target", "stop_trigger", "reason")
        for field in raw:
            assert row[field]["value"] == hedge[field] == row[field]["text"]
        assert row["why_no_order"]["value"] == hedge["why_no_order"]
        for field in ("ratio", "deviation", "liquidation_distance", "funding_received"):
            assert row[field]["value"] == (hedge[field] or "")
        assert _pct(row["deviation"]["text"]) == pytest.approx(float(hedge["deviation"]))
        if hedge["liquidation_distance"] is None:
            assert row["liquidation_distance"]["text"] == "–"
        else:
            dist = _pct(row["liquidation_distance"]["text"])
            assert dist == pytest.approx(float(hedge["liquidation_distance"]), abs=1e-4)
        funding = float(row["funding_received"]["text"].replace(",", ""))
        assert funding == pytest.approx(float(hedge["funding_received"]), abs=0.005)
    assert chart["points"] == len(values) == 8
    lines = {line["series"]: line for line in chart["lines"]}
    for series in ("hedged", "unhedged"):
        assert lines[series]["last"] == values[-1][series]
        # each point sits where the API's value puts it on the chart's scale
        scale = (260 - 10 - 24) / (chart["hi"] - chart["lo"])
        expected = [10 + (chart["hi"] - float(D(v[series]))) * scale for v in values]
        assert lines[series]["ys"] == pytest.approx(expected, abs=0.06)
    assert resources and all(r.startswith(base) for r in resources), resources
    assert shot.stat().st_size > 10_000


async def test_with_a_token_the_dashboard_asks_for_it_once(tmp_path):
    token = "dashboard-token-0123456789"
    async with seeded_store(tmp_path, cycles=2):
        db_url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
        async with beside_daemon(WebOptions(port=0, token=token), db_url) as base:
            assert base is not None
            async with Chromium.start(tmp_path) as browser:
                page = await browser.open(f"{base}?refresh=0.3")
                await page.wait_for("!document.getElementById('login').hidden")
                assert await page.evaluate("document.body.dataset.rendered") == "0"
                await page.evaluate(
                    f"document.getElementById('token').value = '{token}';"
                    "document.getElementById('login').requestSubmit()"
                )
                await page.wait_for("Number(document.body.dataset.rendered) > 0")
                rows = await page.evaluate("document.querySelectorAll('#hedges tbody tr').length")
    assert rows == 2
