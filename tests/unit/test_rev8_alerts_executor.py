"""Reviewer rev8: a hung alert channel must not stall the daemon's loop (issue 8.5: "sending never
blocks or breaks a cycle"). Notifier._deliver runs apprise in asyncio.to_thread and gives up after
its timeout, but the thread goes on; every later alert adds one more. They fill the loop's default
executor, which the cycle loop itself needs: bot/runner.py awaits asyncio.to_thread(_beat, ...)
after every cycle (and aiohttp resolves venue host names there). With the executor full, the
daemon stops between cycles for as long as the channel hangs."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from bot.notify.channel import Alert, Notifier
from bot.runner import _beat


class _HungChannel:
    """An apprise object whose notify never returns in time (a server dribbling its answer,
    an SMTP server that accepts and stalls): here until the test releases it."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def notify(self, **_: object) -> bool:
        self.release.wait()
        return True


async def test_hung_alert_channel_does_not_starve_the_heartbeat(tmp_path: Path) -> None:
    release = threading.Event()
    notifier = Notifier([], timeout=0.05)
    notifier.channels = [("json://hung", _HungChannel(release))]
    notifier.start()
    try:
        workers = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default size
        for i in range(workers + 1):
            notifier.send(Alert("venue", f"venue failing {i}", "reads failing"))
        await notifier.drain()  # every alert timed out (failed), as the channel logs say
        assert notifier.failed == workers + 1
        # the runner's per-cycle heartbeat write must still go through promptly
        await asyncio.wait_for(asyncio.to_thread(_beat, tmp_path / "hb"), timeout=5)
    finally:
        release.set()
        await notifier.close()


async def test_stuck_channel_drops_alerts_logged_once_and_recovers() -> None:
    """While a channel's call outlives its timeout the alerts for it are dropped (one log line,
    not one thread each); once the call returns, the next alert is sent again."""
    import io

    from bot.logging import configure_logging

    logs = io.StringIO()
    configure_logging(stream=logs)
    release = threading.Event()
    calls: list[object] = []

    class Counted(_HungChannel):
        def notify(self, **kw: object) -> bool:
            calls.append(kw)
            return super().notify(**kw)

    hung = Counted(release)
    notifier = Notifier([], timeout=0.05)
    notifier.channels = [("json://hung", hung)]
    notifier.start()
    try:
        for i in range(5):
            notifier.send(Alert("venue", f"venue failing {i}", "reads failing"))
        await notifier.drain()
        assert notifier.failed == 5
        assert logs.getvalue().count("alert channel stuck") == 1
        assert logs.getvalue().count("no answer within") == 1  # one attempt, four dropped
        assert len(calls) == 1  # one thread held by the stuck channel, not one per alert
        release.set()
        deadline = asyncio.get_running_loop().time() + 5
        while notifier._busy["json://hung"].running():  # the stuck call returns
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        notifier.send(Alert("venue", "venue back", "reads ok"))
        await notifier.drain()
        assert notifier.delivered == 1 and "alert channel answers again" in logs.getvalue()
    finally:
        release.set()
        await notifier.close()
