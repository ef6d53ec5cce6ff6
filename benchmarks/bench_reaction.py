"""Reaction time: from a wallet change made through the simulator's control route
(``POST /sim/wallet``, bot/sim/control_client.py) to the hedge order accepted by the venue, with
the daemon loop (bot.runner.run_loop) in poll mode (10 s interval) and in stream mode.

    .venv/bin/python benchmarks/bench_reaction.py [--trials N] [--interval S] [--modes poll,stream]
                                                  [--change move|double]

One direct hedge (benchmarks/rig.py: 50 coins, 100 000 USDT, cooldown 0), the production path:
the simulator on loopback, the ccxt port, SQLite, ccxt.pro for the streams. Each trial moves the
holding by 10% (50 -> 55 -> 50 ...: under the holding-jump confirmation, cycle_memory.py), waits
for the hedge order (client id ``...-h0``) to reach the venue, then for the bot to go quiet (no
cycle running, none pending). ``--change double``: the holding doubles and halves instead (50 ->
100 -> 50 ...): a jump the bot confirms with a second REST read before trading on it, after
``[bot] confirm_seconds`` (1 s) in stream mode, at the next poll in poll mode. In poll mode each
trial starts at a random point of the interval (seeded), as a wallet change would. Prints a
Markdown table; ``--append`` adds it to benchmarks/REACTION.md with the machine line.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import machine
from benchmarks.rig import BASES, http_rig, percentile, quiet_logging, sim_connection
from bot.runner import ConfigWatcher, run_loop
from bot.sim.control_client import SimControl
from bot.stream.mode import stream_trigger

SETTLE = 0.05  # seconds the bot must stay quiet before the next trial (a benchmark, not a test)


class Probe:
    """Marks when the venue accepts a hedge order and whether a cycle is running."""

    def __init__(self, rig: Any) -> None:
        self.accepted: asyncio.Event = asyncio.Event()
        self.accepted_at = 0.0
        self.running = 0
        place = rig.venue.place_order

        def placed(req: Any) -> Any:
            order = place(req)
            if "-h" in req.link_id and not self.accepted.is_set():
                self.accepted_at = time.monotonic()
                self.accepted.set()
            return order

        rig.venue.place_order = placed
        cycle = rig.engine.run_cycle

        async def counted() -> Any:
            self.running += 1
            try:
                return await cycle()
            finally:
                self.running -= 1

        rig.engine.run_cycle = counted

    async def quiet(self, trigger: Any) -> None:
        calm_since = None
        while True:
            busy = self.running or (trigger is not None and trigger.event.is_set())
            now = time.monotonic()
            if busy:
                calm_since = None
            elif calm_since is None:
                calm_since = now
            elif now - calm_since >= SETTLE:
                return
            await asyncio.sleep(0.005)


AMOUNTS = {"move": ("55", "50"), "double": ("100", "50")}


async def measure(
    mode: str, trials: int, interval: float, workdir: Path, change: str = "move"
) -> dict[str, list[float]]:
    rig = await http_rig(1, workdir, rate_limit=True)
    probe = Probe(rig)
    base = BASES[0]
    rng = random.Random(11)
    conn = sim_connection(rig.sim.url, rate_limit=True)
    out: dict[str, list[float]] = {"reaction": [], "to_trigger": []}
    stop = asyncio.Event()
    try:
        async with stream_trigger(conn, mode, 10.0) as trigger, SimControl(rig.sim.url) as ctl:
            loop = asyncio.create_task(
                run_loop(
                    rig.engine,
                    interval=interval,
                    max_cycles=None,
                    watcher=ConfigWatcher(None),
                    stop=stop,
                    trigger=trigger,
                )
            )
            await asyncio.wait_for(probe.accepted.wait(), 60)  # the first hedge
            fired: list[float] = []
            if trigger is not None:  # when a stream update first wakes the loop, per trial
                wake = trigger.event.set

                def marked() -> None:
                    fired.append(time.monotonic())
                    wake()

                trigger.event.set = marked  # type: ignore[method-assign]
            if trigger is not None:  # subscribed before the first trial
                await until(lambda: rig.sim.ws.subscribers("wallet") >= 1)
            for i in range(trials):
                await probe.quiet(trigger)
                if mode == "poll":
                    await asyncio.sleep(rng.uniform(0, interval))
                probe.accepted.clear()
                fired.clear()
                start = time.monotonic()
                await ctl.wallet(base, AMOUNTS[change][i % 2])
                await asyncio.wait_for(probe.accepted.wait(), interval * 2 + 30)
                out["reaction"].append(probe.accepted_at - start)
                if fired:
                    out["to_trigger"].append(fired[0] - start)
                print(f"  {mode} trial {i + 1}: {out['reaction'][-1] * 1000:.1f} ms", flush=True)
            stop.set()
            await loop
    finally:
        await rig.close()
    return out


async def until(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


def row(mode: str, interval: float, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"| {mode} | {interval:g} s | {len(ms)} | {statistics.median(ms):.1f} | "
        f"{percentile(ms, 0.95):.1f} | {min(ms):.1f} | {max(ms):.1f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--modes", default="poll,stream")
    parser.add_argument("--change", choices=sorted(AMOUNTS), default="move")
    parser.add_argument("--append", action="store_true", help="append to benchmarks/REACTION.md")
    args = parser.parse_args()
    quiet_logging()
    lines = [
        f"Measured {machine()}",
        "",
        "| mode | interval | trials | median ms | p95 ms | min ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    extra = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            result = await measure(mode, args.trials, args.interval, Path(tmp), args.change)
            label = mode if args.change == "move" else f"{mode}, holding doubled/halved"
            lines.append(row(label, args.interval, result["reaction"]))
            if result["to_trigger"]:
                part = [v * 1000 for v in result["to_trigger"]]
                extra.append(
                    f"- {mode}: wallet change to stream trigger (the push over the websocket and "
                    f"ccxt.pro's parsing): median {statistics.median(part):.1f} ms, "
                    f"p95 {percentile(part, 0.95):.1f} ms; the rest is the REST cycle it starts."
                )
    text = "\n".join([*lines, "", *extra, ""])
    print(text)
    if args.append:
        path = Path(__file__).with_name("REACTION.md")
        with path.open("a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    asyncio.run(main())
