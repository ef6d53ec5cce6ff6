"""The simulated venue in a process of its own, so the bot's cycle is timed without the venue's
work in the same event loop (a real exchange's server time is not the bot's).

    python benchmarks/venue_process.py STATE_FILE LATENCY_MS

Loads a venue saved with ``bot.sim.persist.save``, serves it over Bybit v5 with Bybit's request
windows enforced and ``LATENCY_MS`` added to every request, prints ``URL`` on the first line of
stdout, and serves until its stdin closes; then prints ``{"refused": N}`` (requests the windows
refused) and exits. ``VenueProcess`` is the parent's side.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


async def _serve(state: Path, latency_ms: int) -> None:
    from bot.sim import persist
    from bot.sim.server import start_simulator

    venue = persist.load(state)
    assert venue is not None, f"{state}: no saved venue"
    faults = f"*:latency={latency_ms}:always" if latency_ms else None
    sim = await start_simulator(venue=venue, rate_limits=True, faults=faults)
    print(sim.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    limits = sim.front.limits
    refused = sum(limits.refused.values()) if limits is not None else 0
    await sim.stop()
    print(json.dumps({"refused": refused}), flush=True)


class VenueProcess:
    """Starts the child and reads its URL; ``stop`` returns the refused-request count."""

    def __init__(self, state: Path, latency_ms: int) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, __file__, str(state), str(latency_ms)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self._proc.stdout is not None
        self.url = self._proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self._proc.kill()
            raise RuntimeError(f"venue process did not start: {self.url!r}")

    def stop(self) -> int:
        out, _ = self._proc.communicate(timeout=60)
        last: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return int(last["refused"])


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bot.logging import configure_logging

    configure_logging(json=False, level="WARNING")
    asyncio.run(_serve(Path(sys.argv[1]), int(sys.argv[2])))
