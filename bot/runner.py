"""The daemon loop: cycles on an interval, graceful stop on SIGINT/SIGTERM (the current cycle
finishes), and configuration reload on SIGHUP or when the file changes on disk."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.engine import CycleOutcome, Engine
from bot.errors import ConfigError, FatalExchangeError
from bot.logging import get_logger
from bot.settings import FileConfig, load_config_file
from bot.stream.trigger import CycleTrigger

if TYPE_CHECKING:
    from bot.store.lock import DaemonLock

log = get_logger("bot.runner")
T = TypeVar("T")
MAX_CONSECUTIVE_FAILURES = 5  # then the error propagates and a supervisor restarts the process


class ConfigWatcher:
    """Reloads the TOML file when asked (SIGHUP) or when its modification time changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.requested = False
        self._mtime = self._stat()

    def _stat(self) -> float | None:
        if self.path is None:
            return None
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def due(self) -> bool:
        return self.requested or (self.path is not None and self._stat() != self._mtime)

    def load(self) -> FileConfig:
        self.requested = False
        self._mtime = self._stat()
        return load_config_file(self.path)


def describe_change(old: FileConfig, new: FileConfig) -> list[str]:
    before = {h.name: h for h in old.hedges}
    after = {h.name: h for h in new.hedges}
    lines = [f"hedge {n} added" for n in after if n not in before]
    lines += [f"hedge {n} removed" for n in before if n not in after]
    for name in sorted(set(before) & set(after)):
        a, b = before[name], after[name]
        if a.enabled != b.enabled:
            lines.append(f"hedge {name} {'enabled' if b.enabled else 'disabled'}")
        if a.model_dump(exclude={"enabled"}) != b.model_dump(exclude={"enabled"}):
            lines.append(f"hedge {name} changed")
    for section in ("bot", "planner", "risk"):
        if getattr(old, section) != getattr(new, section):
            lines.append(f"[{section}] changed")
    return lines or ["no effective change"]


async def maybe_reload(engine: Engine, watcher: ConfigWatcher) -> None:
    if not watcher.due():
        return
    try:
        new = watcher.load()
    except ConfigError as exc:
        log.error(
            "config reload rejected; keeping the running configuration", problems=exc.problems
        )
        await engine.store.add_event("config_rejected", "; ".join(exc.problems), level="error")
        return
    changes = describe_change(engine.config, new)
    later = restart_only(engine.config, new)
    engine.apply_config(new)
    log.info("config reloaded", changes=changes)
    await engine.store.add_event("config_reloaded", "; ".join(changes))
    if later:
        line = f"[bot] {', '.join(later)}: kept until the daemon restarts"
        log.warning("config reload: " + line)
        await engine.store.add_event("config_restart_needed", line, level="warning")


# read once when the daemon starts (the loop's wait, the stream opened or not)
RESTART_ONLY = ("mode", "interval", "stream_ping_seconds", "confirm_seconds")


def restart_only(old: FileConfig, new: FileConfig) -> list[str]:
    return [
        f"{k} {getattr(old.bot, k)} -> {getattr(new.bot, k)}"
        for k in RESTART_ONLY
        if getattr(old.bot, k) != getattr(new.bot, k)
    ]


class Shutdown:
    """SIGINT/SIGTERM from the moment the daemon starts, not only once it cycles: during start-up
    (database, markets, a venue being retried) a signal cancels the start-up, later it lets the
    current cycle finish (run_loop); either way the daemon stops cleanly and exits 0.

        with Shutdown() as shutdown:
            app = await shutdown.start(build_app(...))  # None: stopped during start-up
    """

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._startup: asyncio.Future[Any] | None = None
        self._installed: list[signal.Signals] = []

    def __enter__(self) -> Shutdown:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._signalled)
                self._installed.append(sig)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    def _signalled(self) -> None:
        self.stop.set()
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()

    async def start(self, startup: Awaitable[T]) -> T | None:
        """Run the start-up; None when a signal stopped it (before or while it ran)."""
        task = asyncio.ensure_future(startup)
        if self.stop.is_set():
            task.cancel()
        self._startup = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.stop.is_set() and not (current is not None and current.cancelling()):
                log.info("stopped during start-up")
                return None
            raise  # cancelled from outside: not ours to swallow
        finally:
            self._startup = None


def _beat(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


async def run_loop(
    engine: Engine,
    *,
    interval: float,
    max_cycles: int | None,
    watcher: ConfigWatcher,
    stop: asyncio.Event | None = None,
    heartbeat: Path | None = None,
    trigger: CycleTrigger | None = None,
    lock: DaemonLock | None = None,
) -> list[CycleOutcome]:
    """``trigger`` (stream mode): a stream update cuts the wait short; the interval still bounds
    the time between cycles. ``lock``: checked before every cycle (LockLost stops the daemon)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig, handler in (
        (signal.SIGINT, stop.set),
        (signal.SIGTERM, stop.set),
        (signal.SIGHUP, lambda: setattr(watcher, "requested", True)),
    ):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
    outcomes: list[CycleOutcome] = []
    failures = 0
    try:
        while not stop.is_set() and (max_cycles is None or len(outcomes) < max_cycles):
            if lock is not None:
                await lock.check()
            await maybe_reload(engine, watcher)
            if trigger is not None:
                trigger.before_cycle(engine)
            try:
                outcomes.append(await engine.run_cycle())
                failures = 0
            except (FatalExchangeError, asyncio.CancelledError):
                raise
            except Exception as exc:  # a database hiccup must not end the daemon at once
                failures += 1
                log.exception(
                    "cycle failed", error=f"{type(exc).__name__}: {exc}", consecutive=failures
                )
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    raise
                outcomes.append(CycleOutcome(-1, "error", {"error": str(exc)}))
            if heartbeat is not None:
                _beat(heartbeat)  # a local touch; the default executor may be busy (DNS, reports)
            if max_cycles is not None and len(outcomes) >= max_cycles:
                break
            if trigger is not None:
                # a deferred holding or position is confirmed by a separate REST read soon
                wait = min(interval, trigger.confirm_seconds) if engine.awaiting else interval
                await trigger.pause(stop, wait)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    log.info("stopped", cycles=len(outcomes))
    return outcomes
