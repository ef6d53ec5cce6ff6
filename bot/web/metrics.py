"""Prometheus metrics, read from the database on every scrape by a custom collector: per hedge
target and current size, deviation, ratio, funding, liquidation distance; per account margin
ratio, smallest liquidation distance, equity; the last cycle; counts of orders, rejections,
halts and venue errors. Prices and sizes are floats here: that is the exposition format."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.domain import TradingState
from bot.store.repo import Store
from bot.web.counts import counts
from bot.web.jsonable import dec
from bot.web.views import cycle_view, hedge_rows, latest_account

HEDGE_GAUGES = {
    "target": ("hedgebot_hedge_target_size", "Target perp size (base units, short < 0)"),
    "perp": ("hedgebot_hedge_current_size", "Perp position at the last decision (base units)"),
    "deviation": ("hedgebot_hedge_deviation", "(current - target) / |target|, as a fraction"),
    "ratio": ("hedgebot_hedge_ratio", "Short size over the spot holding"),
    "spot": ("hedgebot_hedge_spot_size", "Spot holding of the hedged asset"),
    "funding_received": ("hedgebot_hedge_funding_received", "Funding received on the perp"),
    "liquidation_distance": (
        "hedgebot_hedge_liquidation_distance",
        "Move of the mark to liquidation, as a fraction",
    ),
    "stop_trigger": ("hedgebot_hedge_stop_trigger_price", "Trigger of the resting stop-loss"),
}
ACCOUNT_GAUGES = {
    "margin_ratio": ("hedgebot_account_margin_ratio", "Maintenance margin over margin equity"),
    "min_liquidation_distance": (
        "hedgebot_account_min_liquidation_distance",
        "Smallest liquidation distance of any position, as a fraction",
    ),
    "margin_equity": ("hedgebot_account_equity", "Margin equity in the quote currency"),
    "total_value": ("hedgebot_account_value", "Quote, spot and perp PnL at market"),
    "spot_value": ("hedgebot_account_spot_value", "Hedged spot holdings at market"),
}


def _f(value: Any) -> float | None:
    d = value if isinstance(value, Decimal) else dec(value)
    return None if d is None else float(d)


class HedgeCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store
        self._metrics: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        return iter(self._metrics)

    async def refresh(self) -> None:
        out: list[Metric] = []
        rows = await hedge_rows(self.store)
        for key, (name, doc) in HEDGE_GAUGES.items():
            g = GaugeMetricFamily(name, doc, labels=["hedge", "symbol"])
            for row in rows:
                value = _f(row[key])
                if value is not None:
                    g.add_metric([row["hedge"], row["symbol"]], value)
            out.append(g)
        _cycle, account = await latest_account(self.store)
        for key, (name, doc) in ACCOUNT_GAUGES.items():
            g = GaugeMetricFamily(name, doc)
            value = _f(account.get(key))
            if value is not None:
                g.add_metric([], value)
            out.append(g)
        out += await self._state_and_cycle()
        out += await self._counters()
        self._metrics = out

    async def _state_and_cycle(self) -> list[Metric]:
        state, _reason = await self.store.trading_state()
        g = GaugeMetricFamily(
            "hedgebot_trading_state", "1 for the current trading state", labels=["state"]
        )
        for s in TradingState:
            g.add_metric([s.value], 1.0 if s == state else 0.0)
        last = await self.store.cycles(limit=1)
        view = cycle_view(last[0] if last else None)
        number = GaugeMetricFamily("hedgebot_last_cycle", "Number of the last cycle")
        started = GaugeMetricFamily(
            "hedgebot_last_cycle_timestamp_seconds", "Start of the last cycle (Unix time)"
        )
        duration = GaugeMetricFamily(
            "hedgebot_cycle_duration_seconds", "Duration of the last finished cycle"
        )
        requests = GaugeMetricFamily(
            "hedgebot_cycle_venue_requests", "Venue requests of the last cycle, when recorded"
        )
        if view is not None:
            number.add_metric([], view["number"])
            started.add_metric([], view["started_at"].timestamp())
            if view["duration_seconds"] is not None:
                duration.add_metric([], view["duration_seconds"])
            sent = view["summary"].get("venue_requests")
            if isinstance(sent, int):
                requests.add_metric([], sent)
        return [g, number, started, duration, requests]

    async def _counters(self) -> list[Metric]:
        c = await counts(self.store)
        specs = {
            "orders": ("hedgebot_orders", "Order intents, by purpose", ["purpose", "status"]),
            "rejections": ("hedgebot_rejections", "Orders refused, by source", ["source"]),
            "cycles": ("hedgebot_cycles", "Cycles by outcome", ["outcome"]),
            "halts": ("hedgebot_halts", "Times trading was halted", []),
            "venue_errors": ("hedgebot_venue_errors", "Venue failures by kind", ["kind"]),
        }
        out: list[Metric] = []
        for key, (name, doc, labels) in specs.items():
            m = CounterMetricFamily(name, doc, labels=labels)
            for label_values, n in sorted(c[key].items()):
                m.add_metric(list(label_values), n)
            out.append(m)
        return out
