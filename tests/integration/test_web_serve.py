"""`hedgebot run --serve` serves beside the daemon (cycles go on) and `hedgebot serve` on its own;
no response ever carries the API key, secret, database password or the token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.store import Store
from tests.integration.web_seed import DATA_PATHS, client, free_port

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET, PASSWORD = "KEY-abc123-zz", "SECRET-def456-yy", "Pw0rd-ghi789-xx"
TOKEN = "tok-jkl012-ww-0123456789"


def _poll(fn, deadline_s: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = fn()
            if result:
                return result
        except (httpx.HTTPError, KeyError, TypeError) as exc:
            last = exc
        time.sleep(0.1)  # polling interval of a condition with a deadline, not a synchronisation
    raise AssertionError(f"condition not met before the deadline ({last})")


@pytest.fixture
def daemon(db_url: str, tmp_path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    url = db_url
    if url.startswith("postgresql"):  # the throwaway server trusts local users: any password works
        url = url.replace("://hedgebot@", f"://hedgebot:{PASSWORD}@").replace(
            "://postgres@", f"://postgres:{PASSWORD}@"
        )
        assert PASSWORD in url
    port = free_port()
    env = {
        **os.environ,
        "HEDGEBOT_DATABASE_URL": url,
        "HEDGEBOT_API_KEY": KEY,
        "HEDGEBOT_API_SECRET": SECRET,
        "HEDGEBOT_API_TOKEN": TOKEN,
        "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "beat"),
        "PYTHONPATH": str(ROOT),  # this checkout's code, though the cwd is a scratch folder
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--serve", "--port", str(port), "--interval", "0.3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_run_serve_answers_while_cycles_go_on_and_leaks_no_secret(daemon):
    base, proc = daemon
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def cycle() -> int:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        status = httpx.get(f"{base}/api/status", headers=auth, timeout=5).json()
        return int(status["last_cycle"]["number"]) if status["last_cycle"] else 0

    first = _poll(lambda: cycle() >= 2 and cycle())
    # over ccxt and HTTP, each cycle records how many venue calls it made (metrics show the last)
    summary = httpx.get(f"{base}/api/status", headers=auth).json()["last_cycle"]["summary"]
    assert summary["venue_requests"] >= 4, summary
    metrics = httpx.get(f"{base}/metrics", headers=auth).text
    assert "\nhedgebot_cycle_venue_requests " in metrics
    bodies = []
    paths = [*DATA_PATHS, "/", "/static/app.js", "/docs", "/openapi.json", "/api/nothing-here"]
    paths.append("/api/fills?since=bad")
    for path in paths:
        for headers in (auth, {}, {"Authorization": "Bearer wrong"}):
            r = httpx.get(f"{base}{path}", headers=headers, timeout=10)
            bodies.append(r.text + str(r.headers))
    r = httpx.post(
        f"{base}/api/control/halt", headers=auth, json={"reason": "web test"}, timeout=10
    )
    assert r.status_code == 200
    bodies.append(r.text)
    _poll(lambda: cycle() >= first + 2)  # the daemon went on cycling (halted) meanwhile
    assert httpx.get(f"{base}/api/status", headers=auth).json()["trading_state"] == "halted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    for text in [*bodies, out, err]:
        for secret in (KEY, SECRET, PASSWORD, TOKEN):
            assert secret not in text


async def test_a_failing_database_answers_one_line_without_its_password():
    store = Store.from_url(f"postgresql+asyncpg://u:{PASSWORD}@127.0.0.1:{free_port()}/db")
    async with client(store) as c:
        r = await c.get("/api/status")
    await store.close()
    assert r.status_code == 500 and PASSWORD not in r.text
    assert r.json()["detail"].startswith("internal error (")


def test_serve_on_its_own_reads_the_database_and_stops_on_ctrl_c(tmp_path):
    import asyncio

    from tests.integration.web_seed import seed

    url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    asyncio.run(seed(url, cycles=2))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        env={**os.environ, "HEDGEBOT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:

        def status() -> dict:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            return httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=5).json()

        assert _poll(status)["last_cycle"]["number"] == 2
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert f"serving on http://127.0.0.1:{port}/" in err and "Traceback" not in err
