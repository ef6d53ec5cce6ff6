"""`hedgebot run` with `[bot] mode = "stream"` as shipped: the embedded simulator, the ccxt port and
the ccxt.pro stream wired by bot/app.py and bot/cli.py. With an hour-long interval a second cycle
starts within seconds only if the stream (the first cycle's own fills) triggered it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFIG = """
[bot]
mode = "{mode}"
interval = 3600
[[hedges]]
name = "btc"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
[paper]
wallet = {{ USDT = "100000", BTC = "1" }}
"""


def run(tmp_path: Path, mode: str, timeout: float) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / f"{mode}.toml"
    cfg.write_text(CONFIG.format(mode=mode))
    env = {**os.environ, "HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / mode}.db"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(cfg), "--max-cycles", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.getcwd(),
        timeout=timeout,
    )


def test_stream_mode_starts_the_next_cycle_without_waiting_for_the_interval(tmp_path) -> None:
    done = run(tmp_path, "stream", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout + done.stderr
    assert "stream mode: private streams trigger cycles" in out
    assert "cycle=2" in out and "stopped" in out
