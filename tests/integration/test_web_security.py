"""Who may use the API: loopback reads are open (to loopback Host names only), a token makes
every data request need it, control always needs it, and no response carries a secret."""

from __future__ import annotations

import hmac
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from bot.store import Store
from bot.web import security
from bot.web.security import BindRefused, check_bind
from tests.integration.web_seed import DATA_PATHS, client, free_port, seeded_store

TOKEN = "s3cret-api-token-9f8e7d6c5b4a"


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    async with seeded_store(tmp_path, cycles=3) as s:
        yield s


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_binds_need_no_token(host):
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_other_binds_need_a_token(host):
    with pytest.raises(BindRefused, match="HEDGEBOT_API_TOKEN"):
        check_bind(host, None)
    check_bind(host, TOKEN)


async def test_with_a_token_every_data_request_needs_it(store):
    async with client(store, TOKEN) as c:
        for path in DATA_PATHS:
            assert (await c.get(path)).status_code == 401, path
            wrong = await c.get(path, headers={"Authorization": f"Bearer {TOKEN}x"})
            assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
            basic = await c.get(path, headers={"Authorization": f"Basic {TOKEN}"})
            assert basic.status_code == 401
            ok = await c.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200, path
        # the dashboard's shell and the OpenAPI page hold no data: a browser loads them first
        assert (await c.get("/")).status_code == 200
        assert (await c.get("/static/app.js")).status_code == 200


async def test_the_token_is_compared_in_constant_time(store, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    async with client(store, TOKEN) as c:
        await c.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert calls == [(TOKEN.encode(), TOKEN.encode())]


async def test_without_a_token_control_is_refused_and_foreign_hosts_too(store):
    async with client(store, None) as c:
        assert (await c.get("/api/status")).status_code == 200
        for action in ("halt", "resume"):
            r = await c.post(f"/api/control/{action}")
            assert r.status_code == 403
    # a page that rebinds its own name to 127.0.0.1 sends that name as Host
    async with client(store, None, host="attacker.example:8080") as c:
        assert (await c.get("/api/status")).status_code == 403
    assert (await store.trading_state())[0].value == "active"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


@pytest.mark.parametrize("command", [["serve"], ["run", "--serve", "--max-cycles", "1"]])
def test_a_public_bind_without_a_token_refuses_to_start(tmp_path, command):
    env = {"HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    env["HEDGEBOT_API_TOKEN"] = ""
    proc = _cli(*command, "--host", "0.0.0.0", "--port", str(free_port()), env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "HEDGEBOT_API_TOKEN" in lines[0], proc.stderr
    assert not (tmp_path / "x.db").exists()  # refused before anything started


def test_a_taken_port_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {"HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
        proc = _cli("serve", "--port", str(port), env=env)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0], proc.stderr
