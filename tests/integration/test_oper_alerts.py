"""Alerts through apprise to a local HTTP receiver (`json://127.0.0.1:PORT`): delivered, never
blocking, a failing channel logged and redacted; and what the watcher finds worth an alert."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Fill, IntentPurpose, IntentStatus, OrderIntent, OrderKind, Side, TradingState
from bot.logging import configure_logging
from bot.notify import Alert, AlertsSection, AlertWatcher, Notifier
from bot.store import CycleRecord, Store, TargetRecord
from bot.store.migrate import upgrade

T0 = datetime(2024, 1, 1, 6, tzinfo=UTC)
BTC = "BTC/USDT:USDT"


class Receiver:
    """A local webhook: /ok answers 200, /fail 500, /hang never answers until closed."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.startswith("/hang"):
                    outer.release.wait(30)
                if self.path.startswith("/fail"):
                    self.send_response(500)
                else:
                    outer.posts.append(json.loads(body or b"{}"))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *_a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, auth: str = "") -> str:
        return f"json://{auth}127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def test_delivers_and_logs_a_failing_channel_redacted(receiver: Receiver) -> None:
    logs = io.StringIO()
    configure_logging(stream=logs)
    notifier = Notifier([receiver.url("ok"), receiver.url("fail", "bot:hunter2222@")], timeout=10)
    notifier.start()
    notifier.send(Alert("halt", "hedgebot: trading halted", "stop-loss fired on BTC"))
    await notifier.drain()
    await notifier.close()
    assert [p["title"] for p in receiver.posts] == ["hedgebot: trading halted"]
    assert receiver.posts[0]["message"] == "stop-loss fired on BTC"
    assert notifier.delivered == 1 and notifier.failed == 1
    text = logs.getvalue()
    assert "alert not delivered" in text and "hunter2222" not in text


async def test_sending_never_waits_for_a_hanging_channel(receiver: Receiver) -> None:
    notifier = Notifier([receiver.url("hang")], timeout=0.5)
    notifier.start()
    started = time.monotonic()
    for i in range(3):
        notifier.send(Alert("venue", f"t{i}", "b"))
    assert time.monotonic() - started < 0.1  # queued, not sent, by the caller
    await notifier.drain()  # each attempt ends at its timeout
    assert notifier.failed == 3
    await notifier.close()


def test_unknown_url_is_ignored_and_logged() -> None:
    logs = io.StringIO()
    configure_logging(stream=logs)
    notifier = Notifier(["nosuchscheme://x"])
    assert not notifier.enabled and "alert URL not understood" in logs.getvalue()


class Recorder(Notifier):
    def __init__(self) -> None:
        super().__init__([])
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.sent.append(alert)

    def kinds(self) -> list[str]:
        out = [a.kind for a in self.sent]
        self.sent.clear()
        return out


def _account(size: str, distance: str | None) -> dict[str, Any]:
    return {"account": {"perps": {BTC: {"size": size, "liquidation_distance": distance}}}}


async def _cycle(store: Store, n: int, at: datetime, outcome: str = "ok", **kw: Any) -> None:
    await store.record_cycle(
        CycleRecord(number=n, started_at=at, trading_state=TradingState.ACTIVE, **kw)
    )
    await store.finish_cycle(n, outcome, kw.pop("summary", None) or {})


async def test_watcher_finds_what_is_worth_an_alert(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    await upgrade(url)
    clock = [T0]
    store = Store.from_url(url, clock=lambda: clock[0])
    rec = Recorder()
    alerts = AlertsSection(
        unprotected_after_seconds=300,
        outside_band_after_seconds=600,
        venue_failures=2,
        liquidation_distance=D("0.2"),
        daily_summary=False,
    )
    watcher = AlertWatcher(store, rec, lambda: (alerts, D("0.02"), "USDT"))

    # a short without a stop, off its target, close to liquidation
    target = TargetRecord("btc", BTC, D("-1"), D("-2"), D(1), "direct")
    await _cycle(store, 1, T0, targets=[target])
    await store.finish_cycle(1, "ok", _account("-1", "0.1"))
    await watcher.check()
    assert rec.kinds() == ["liquidation"]  # at start-up; the others have not lasted yet

    clock[0] = T0 + timedelta(minutes=11)
    await _cycle(store, 2, clock[0], targets=[target])
    await store.finish_cycle(2, "ok", _account("-1", "0.1"))
    await watcher.check()
    assert sorted(rec.kinds()) == ["outside_band", "unprotected"]  # once each, not again
    await watcher.check()
    assert rec.kinds() == []

    # a stop-loss fills; the state halts
    stop = OrderIntent(
        "hb-t-3-BTC-s0",
        "btc",
        3,
        BTC,
        Side.BUY,
        D(1),
        kind=OrderKind.STOP_MARKET,
        purpose=IntentPurpose.STOP,
        reduce_only=True,
        trigger_price=D(70000),
    )
    clock[0] += timedelta(minutes=1)
    await _cycle(store, 3, clock[0], intents=[stop])
    await store.update_intent(stop.client_order_id, IntentStatus.FILLED)
    await store.add_fills(
        [
            Fill(
                "x1",
                "v1",
                stop.client_order_id,
                BTC,
                Side.BUY,
                D(1),
                D(70000),
                D("0.5"),
                "USDT",
                clock[0],
            )
        ]
    )
    await store.set_trading_state(TradingState.HALTED, "stop-loss filled on BTC/USDT:USDT")
    await watcher.check()
    kinds = rec.sent[:]
    assert sorted(rec.kinds()) == ["halt", "stop_fill"]
    assert "hedgebot resume" in next(a.body for a in kinds if a.kind == "halt")

    # two failed cycles in a row: one alert, then one when they recover
    for n in (4, 5):
        clock[0] += timedelta(minutes=1)
        await _cycle(store, n, clock[0], outcome="skipped")
    await watcher.check()
    await watcher.check()
    assert rec.kinds() == ["venue"]
    clock[0] += timedelta(minutes=1)
    await _cycle(store, 6, clock[0])
    await watcher.check()
    assert rec.kinds() == ["venue"]  # back to normal

    # a restart: halted at start-up and the liquidation warning again; no old stop fill again
    again = AlertWatcher(store, rec, lambda: (alerts, D("0.02"), "USDT"))
    await again.check()
    assert sorted(rec.kinds()) == ["halt", "liquidation"]
    await store.close()


async def test_daily_summary_once_a_day_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade(url)
    clock = [T0]
    store = Store.from_url(url, clock=lambda: clock[0])
    rec = Recorder()
    alerts = AlertsSection(daily_summary_hour=5)
    await _cycle(store, 1, T0, targets=[TargetRecord("btc", BTC, D("-2"), D("-2"), D(1), "ok")])
    await store.add_fills(
        [Fill("f1", "v1", None, BTC, Side.SELL, D(1), D(60000), D("0.25"), "USDT", T0)]
    )
    for _ in range(2):
        await AlertWatcher(store, rec, lambda: (alerts, D("0.02"), "USDT")).check()
    assert [a.kind for a in rec.sent] == ["summary"]
    assert "btc BTC/USDT:USDT: -2 of -2 (ratio 1)" in rec.sent[0].body
    assert "fees 0.25 USDT" in rec.sent[0].body
    await store.close()


def test_the_daemon_alerts_when_it_starts_halted(tmp_path: Path, receiver: Receiver) -> None:
    env = {
        **os.environ,
        "HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "hb"),
        "HEDGEBOT_NOTIFY_URLS": receiver.url("ok", "u:topsecret99@"),
    }

    def hedgebot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    assert hedgebot("db", "upgrade").returncode == 0
    assert hedgebot("halt", "--reason", "maintenance").returncode == 0
    run = hedgebot("run", "--max-cycles", "1", "--interval", "0.1")
    assert run.returncode == 0, run.stderr
    titles = [p["title"] for p in receiver.posts]
    assert "hedgebot: started while halted" in titles
    assert "topsecret99" not in run.stderr + run.stdout
