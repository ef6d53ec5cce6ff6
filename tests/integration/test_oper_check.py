"""`check-config` reports every problem at once; `run` refuses the same before it trades; the
simulator's command-line errors are one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

BAD = """
[bot]
interval = -1
[paper]
data_dir = "{tmp}/no-such-folder"
wallet = {{ usdt = 1000 }}
[[hedges]]
name = "b"
spot_asset = "btc"
perp = "BTC/USDT:USDT"
[hedges.params]
ratio = 9
[[hedges]]
name = "bad name!"
strategy = "nope"
[[hedges]]
name = "c"
spot_asset = "ETH"
perp = "BTC/USDT:USDT"
strategy = "cross"
[hedges.params]
window = 1
"""


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(BAD.format(tmp=tmp_path))
    code, out = _invoke(
        "check-config",
        "--config",
        str(cfg),
        env={"HEDGEBOT_DATABASE_URL": "::nonsense", "HEDGEBOT_HEARTBEAT_FILE": str(cfg / "hb")},
    )
    assert code == 2, out
    expected = [
        "HEDGEBOT_DATABASE_URL: not a database URL",
        f"HEDGEBOT_HEARTBEAT_FILE: cannot create {cfg / 'hb'}",
        "bot.interval:",
        "hedges[0].params.ratio:",  # a strategy problem beside field problems of other hedges
        "hedges[1].name:",
        "hedges[1].strategy: unknown strategy 'nope'",
        "hedges[2].params.window:",
        "hedges[0].spot_asset: 'btc' is not an asset code; write 'BTC'",
        "paper.wallet.usdt:",
        f"paper.data_dir: {tmp_path / 'no-such-folder'} is not a folder",
    ]
    for line in expected:
        assert line in out, (line, out)
    assert "Traceback" not in out


def test_lower_case_asset_alone_is_refused_by_run_too(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[hedges]]\nname = "b"\nspot_asset = "btc"\nperp = "BTC/USDT:USDT"\n')
    env = {
        "HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "HEDGEBOT_HEARTBEAT_FILE": str(tmp_path / "hb"),
    }
    assert _invoke("check-config", "--config", str(cfg), env=env)[0] == 2
    code, out = _invoke("run", "--config", str(cfg), "--max-cycles", "1", env=env)
    assert code == 2 and "write 'BTC'" in out
    assert not (tmp_path / "x.db").exists()


def test_run_refuses_an_unwritable_heartbeat_before_trading(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {
        "HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "HEDGEBOT_HEARTBEAT_FILE": str(blocker / "heartbeat"),
    }
    code, out = _invoke("run", "--max-cycles", "1", env=env)
    assert code == 2 and "HEDGEBOT_HEARTBEAT_FILE" in out, out
    assert not (tmp_path / "x.db").exists()  # refused before the database or the venue


def test_run_refuses_a_bad_data_dir(tmp_path: Path) -> None:
    empty = tmp_path / "market"
    empty.mkdir()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[paper]\ndata_dir = "{empty}"\n')
    env = {"HEDGEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    for command in (["check-config"], ["run", "--max-cycles", "1"]):
        code, out = _invoke(*command, "--config", str(cfg), env=env)
        assert code == 2 and f"paper.data_dir: no *_perp_1h.csv history files in {empty}" in out


def test_online_check_names_symbols_the_venue_lacks(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[hedges]]\nname = "d"\nspot_asset = "DOGE"\nperp = "DOGE/USDT:USDT"\n')
    assert _invoke("check-config", "--config", str(cfg))[0] == 0  # offline: nothing to see
    code, out = _invoke("check-config", "--online", "--config", str(cfg))
    assert code == 2 and "DOGE/USDT:USDT: no such market on bybit (paper)" in out
    code, out = _invoke("check-config", "--online")
    assert code == 0 and "every symbol found on the venue" in out


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "sim", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


@pytest.mark.parametrize("spec", ["garbage", "order/create:nope:1", "order/create:http503:x"])
def test_sim_refuses_a_fault_spec_that_does_not_parse(spec: str) -> None:
    proc = _sim("--port", "0", "--faults", spec)
    assert proc.returncode == 2
    assert proc.stderr.startswith("--faults: ") and len(proc.stderr.strip().splitlines()) == 1


def test_sim_refuses_a_websocket_fault_spec_that_does_not_parse() -> None:
    proc = _sim("--port", "0", "--ws-faults", "private:delay")  # delay needs its milliseconds
    assert proc.returncode == 2
    assert proc.stderr.startswith("--ws-faults: ") and len(proc.stderr.strip().splitlines()) == 1


def test_sim_on_a_busy_port_says_so() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _sim("--port", str(port))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"cannot listen on 127.0.0.1:{port}: the port is in use; stop what holds it or choose "
        "another with --port (0 picks a free one)"
    )
