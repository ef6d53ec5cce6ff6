"""Review of issue 11: a websocket fault drill that cannot happen must be refused, not run.

`hedgebot sim --ws-faults private:reset:1` (an HTTP kind), `--ws-faults order/create:drop:1` (an
HTTP endpoint) and `--faults position/list:silent:1` (a websocket kind) were accepted; the first
even counted as fired while the message went out untouched. An operator rehearsing stream faults
saw the bot "survive" a fault that never happened.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.sim.faults import Faults


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", "sim", *args],
            capture_output=True,
            text=True,
            timeout=20,  # a refused spec ends at once; an accepted one serves until killed
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hedgebot sim {' '.join(args)}: accepted, the simulator started")


@pytest.mark.parametrize(
    ("flag", "spec", "named"),
    [
        ("--ws-faults", "private:reset:1", "reset"),
        ("--ws-faults", "private:timeout=3:1", "timeout"),
        ("--ws-faults", "order/create:drop:1", "order/create"),
        ("--ws-faults", "private@GET:drop:1", "@GET"),
        ("--faults", "position/list:silent:1", "silent"),
        ("--faults", "private:reset:1", "private"),
    ],
)
def test_sim_refuses_a_fault_of_the_other_front(flag: str, spec: str, named: str) -> None:
    proc = _sim("--port", "0", flag, spec)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = proc.stderr.strip()
    assert line.startswith(f"{flag}: ") and len(line.splitlines()) == 1 and named in line


def test_the_python_api_refuses_them_too() -> None:
    """start_simulator(ws_faults=...) and the hub's own rules (what tests load) check alike."""
    ws = Faults(websocket=True)
    for spec in ("private:reset:1", "order/create:drop:1", "*:http503:1"):
        with pytest.raises(ValueError):
            ws.load(spec)
    with pytest.raises(ValueError, match="silent"):
        Faults().load("position/list:silent:1")
    ws.load("private:silent:1;public/linear:delay=500:0.1;public/spot:drop:always;*:drop:1")
    Faults().load("order/create:drop_after_accept:1;*:latency=200:0.1")
