"""Paper mode survives a restart: the embedded venue's account is saved under the data folder and
resumed, so the hedge stays on, nothing is re-sent and no execution id is reused;
`hedgebot paper reset` starts over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path


def _hedgebot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'paper.db'}",
        "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _json(tmp_path: Path, *args: str) -> list[dict]:
    return json.loads(_hedgebot(tmp_path, *args, "--format", "json", "--limit", "0").stdout)


def test_a_restart_resumes_the_same_paper_account(tmp_path: Path) -> None:
    _hedgebot(tmp_path, "run", "--max-cycles", "3", "--interval", "0.2")
    assert (tmp_path / "paper.paper-venue.pickle").is_file()
    orders = _json(tmp_path, "orders")
    fills = _json(tmp_path, "fills")
    hedges = [o for o in orders if o["purpose"] == "hedge"]
    assert {o["status"] for o in hedges} == {"filled"} and len(hedges) == 2

    _hedgebot(tmp_path, "run", "--max-cycles", "3", "--interval", "0.2")
    after = _json(tmp_path, "orders")
    assert [o for o in after if o["purpose"] == "hedge"] == hedges  # nothing re-sent
    assert len(after) == len(orders)  # the stop-losses rest on the resumed venue too
    status = json.loads(_hedgebot(tmp_path, "status", "--format", "json").stdout)
    current = {h["hedge"]: Decimal(h["current"]) for h in status["hedges"]}
    assert current == {"btc": Decimal(-2), "eth": Decimal(-30)}  # the hedge stayed on
    again = _json(tmp_path, "fills")
    assert len(again) >= len(fills) and len({f["trade_id"] for f in again}) == len(again)

    reset = _hedgebot(tmp_path, "paper", "reset", "--yes")
    assert "paper account reset" in reset.stdout
    assert not (tmp_path / "paper.db").exists()
    assert not (tmp_path / "paper.paper-venue.pickle").exists()
