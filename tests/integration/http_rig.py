"""The production path for engine tests: the Bybit v5 simulator on a free loopback port and the
real ccxt port (bot.exchange.factory.create_exchange) talking to it.

    paper = await make_paper(db_url, transport="http")   # tests/integration/paper.py
    await paper.cycle()                 # advance the venue's clock one minute, run one cycle
    paper.venue / paper.sim.url / paper.port / paper.engine / paper.store

The simulator runs in the test's own event loop on the venue object the test holds, so a test may
move prices and wallets on that object directly (or over the control routes when it wants the
whole HTTP path). The engine's clock is the venue's simulated time.

The second half runs the simulator and the daemon as processes (``ExternalSim``, ``Daemon``), for
tests that kill the bot or drive it like an operator would.

ccxt's rate limiter is off by default here, as in the simulator harness: it only paces requests
(weight x 20 ms, ~100 ms per read). Measured on the 19 HTTP scenarios of test_engine_paper.py
(SQLite, shared 2-core machine): 85 s with it on, 26 s off. Pass ``rate_limit=True`` to keep it;
the subprocess tests (test_kill_*.py) run the daemon as shipped, limiter on.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.exchange.factory import VenueConnection, create_exchange
from bot.exchange.port import ExchangePort
from bot.sim.control_client import SimControl
from bot.sim.server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    RunningSimulator,
    start_simulator,
)
from bot.sim.venue import Venue

TRANSPORTS = ("inprocess", "http")


def ccxt_port(url: str, *, rate_limit: bool = False, timeout_ms: int = 10_000) -> ExchangePort:
    """The port production builds in paper mode, pointed at ``url``."""
    return create_exchange(
        paper_connection(url, timeout_ms=timeout_ms, enable_rate_limit=rate_limit)
    )


def paper_connection(url: str, secret: str = DEFAULT_API_SECRET, **options: Any) -> VenueConnection:
    """How paper mode reaches the simulator at ``url``: Bybit, the simulator's keys."""
    return VenueConnection(
        venue="bybit",
        mode="paper",
        api_key=SecretStr(DEFAULT_API_KEY),
        api_secret=SecretStr(secret),
        url=url,
        **options,
    )


async def serve(venue: Venue, *, rate_limit: bool = False) -> tuple[RunningSimulator, ExchangePort]:
    """Serve ``venue`` over HTTP on a free loopback port (its clock moves only when the test moves
    it) and build the ccxt port for it. Close with ``await port.close(); await sim.stop()``."""
    sim = await start_simulator(venue=venue)
    return sim, ccxt_port(sim.url, rate_limit=rate_limit)


# ---- the simulator and the daemon as processes (kill and drill tests) --------------------------

ROOT = Path(__file__).resolve().parents[2]  # this tree's code, whatever is installed


def process_env(tmp_path: Path, url: str = "") -> dict[str, str]:
    """The environment of a `hedgebot` process of a test: no HEDGEBOT_* from outside, this tree's
    code, a database and a heartbeat in ``tmp_path``, the venue at ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEDGEBOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        HEDGEBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        HEDGEBOT_HEARTBEAT_FILE=str(tmp_path / "heartbeat"),
    )
    if url:
        env["HEDGEBOT_VENUE_URL"] = url
    return env


def wait_for(condition: Any, what: str, timeout: float = 30.0, every: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)  # polling a condition with a deadline
    raise AssertionError(f"timed out waiting for {what}")


class ExternalSim:
    """`python -m bot sim` on a free loopback port (it outlives the daemons a test kills), and
    its signed control routes (bot.sim.control_client) called synchronously."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.log = tmp_path / "sim.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "sim", "--port", "0", *args],
                cwd=tmp_path,
                env=process_env(tmp_path),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.url: str = wait_for(self._url, "the simulator's URL")

    def _url(self) -> str | None:
        assert self.proc.poll() is None, self.log.read_text()
        found = re.search(r"listening on (http://\S+)", self.log.read_text())
        return found.group(1) if found else None

    def call(self, method: str, *args: Any) -> Any:
        """``SimControl.<method>(*args)``: advance, price, wallet, state."""

        async def go() -> Any:
            async with SimControl(self.url) as ctl:
                return await getattr(ctl, method)(*args)

        return asyncio.run(go())

    def pages(self, path: str, **query: str) -> list[dict[str, Any]]:
        """Every row of a paged signed Bybit v5 read (the venue's own answer, not the bot's)."""

        async def go() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            async with SimControl(self.url) as ctl:
                cursor = ""
                while True:
                    page = await ctl.get(path, {**query, **({"cursor": cursor} if cursor else {})})
                    rows += page["list"]
                    cursor = page.get("nextPageCursor") or ""
                    if not cursor:
                        return rows

        return asyncio.run(go())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def _hedgebot(argv: list[str], env: dict[str, str], cwd: str, log: str) -> None:
    """`hedgebot <argv>` in this (forked) process, its output to ``log``: what `python -m bot`
    runs, minus the imports the fork server already made."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = sys.stderr = open(1, "w", buffering=1)  # noqa: SIM115 - lives as long as we do
    from bot.cli import main

    main(argv, prog_name="hedgebot")


# Each daemon forks from a server that imported the bot once: a fresh interpreter costs ~2-3 s of
# imports on a loaded machine, which would triple the runtime of a test that restarts it 20 times.
_LAUNCHER = multiprocessing.get_context("forkserver")
_LAUNCHER.set_forkserver_preload(["bot.cli", "bot.app", "ccxt.async_support", __name__])


class Daemon:
    """One life of `hedgebot run --config <config>` against ``url``; its log in a file to poll."""

    def __init__(self, tmp_path: Path, url: str, name: str, config: str, *extra: str) -> None:
        self.log = tmp_path / f"{name}.log"
        self.log.touch()
        path = tmp_path / "hedgebot.toml"
        path.write_text(config)
        argv = ["run", "--interval", "0.2", "--config", str(path), *extra]
        self.proc = _LAUNCHER.Process(
            target=_hedgebot, args=(argv, process_env(tmp_path, url), str(tmp_path), str(self.log))
        )
        self.proc.start()

    def count(self, text: str) -> int:
        return self.log.read_text().count(text)

    def alive(self) -> bool:
        return self.proc.is_alive()

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.join(timeout=30)
        assert self.proc.exitcode == -signal.SIGKILL

    def finish(self, timeout: float) -> int | None:
        self.proc.join(timeout=timeout)
        return self.proc.exitcode
