"""Review of issue 11: switching ``[bot] mode`` in a running daemon's file.

The stream is opened (or not) when the daemon starts, and the loop's interval is fixed then too, so
a reload that changes them changes nothing: the log said only "config reloaded ['[bot] changed']",
and an operator who switched to stream mode believed the bot now reacted at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from bot.runner import ConfigWatcher, maybe_reload
from bot.settings import parse_config

HEDGE = '[[hedges]]\nname = "btc"\nspot_asset = "BTC"\nperp = "BTC/USDT:USDT"\n'


class FakeStore:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def add_event(self, kind: str, message: str, level: str = "info") -> None:
        self.events.append((kind, message))


class FakeEngine:
    def __init__(self, text: str) -> None:
        self.config = parse_config(text)
        self.store = FakeStore()

    def apply_config(self, config: Any) -> None:
        self.config = config


async def reload(tmp_path: Path, before: str, after: str) -> tuple[FakeEngine, list[Any]]:
    path = tmp_path / "hedgebot.toml"
    engine = FakeEngine(before + HEDGE)
    path.write_text(after + HEDGE)
    watcher = ConfigWatcher(path)
    watcher.requested = True
    with capture_logs() as logs:
        await maybe_reload(engine, watcher)  # type: ignore[arg-type]
    return engine, logs


async def test_a_reload_that_switches_to_stream_mode_says_it_needs_a_restart(
    tmp_path: Path,
) -> None:
    engine, logs = await reload(
        tmp_path, "[bot]\ninterval = 10\n", '[bot]\nmode = "stream"\ninterval = 5\n'
    )
    warned = [e for e in logs if e["log_level"] == "warning"]
    assert warned, logs
    text = " ".join(str(e) for e in warned)
    assert "restart" in text and "mode" in text and "interval" in text
    assert any("restart" in message for _, message in engine.store.events)


async def test_a_reload_of_other_settings_asks_for_no_restart(tmp_path: Path) -> None:
    _engine, logs = await reload(
        tmp_path,
        '[bot]\nmode = "stream"\n',
        '[bot]\nmode = "stream"\n[planner]\ncooldown_seconds = 5\n',
    )
    assert not [e for e in logs if "restart" in str(e)], logs
