"""An operator's drill on the production path: `hedgebot sim --speed 0` keeps the venue's clock
still until told (issue 7.1), and `hedgebot run --venue-url` trades against it. The daemon's clock
follows the simulator's (caf5644): on the wall clock every venue-stamped price looked stale."""

from __future__ import annotations

import time

from tests.integration.http_rig import Daemon, ExternalSim, wait_for
from tests.integration.paper import DEMO

STALE_AFTER = 2  # seconds: the drill must outlast it


def test_a_drill_on_a_still_venue_clock_hedges_and_keeps_deciding(tmp_path):
    sim = ExternalSim(tmp_path, "--speed", "0")
    config = DEMO + f"[risk]\nstale_after_seconds = {STALE_AFTER}\n"
    daemon = Daemon(tmp_path, sim.url, "drill", config)
    try:
        started = time.monotonic()
        # cycles go on while the venue's clock stands, for longer than the staleness limit
        wait_for(
            lambda: (
                time.monotonic() - started > 2 * STALE_AFTER
                and daemon.count("cycle done") + daemon.count("decision skipped") >= 3
            ),
            "cycles past the staleness limit",
            60,
        )
        daemon.proc.terminate()
        assert daemon.finish(timeout=60) == 0
        state = sim.call("state")
    finally:
        if daemon.alive():
            daemon.kill()
        sim.stop()
    log = daemon.log.read_text()
    assert "stale price" not in log, log[-2000:]
    shorts = {p["symbol"]: p["size"] for p in state["positions"]}
    assert shorts == {"BTCUSDT": "-2", "ETHUSDT": "-30"}, state
