"""Issue 7.8: SIGTERM during start-up exits 0, like a SIGTERM once the daemon cycles.

The venue answers nothing (a socket that accepts and stays silent), so the daemon is held in its
start-up (loading markets); the test waits for a start-up line (the fresh database being
migrated), not for a fixed time."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line)
    out.put(None)


def test_sigterm_while_starting_exits_0(tmp_path):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    port = silent.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEDGEBOT_")}
    env.update(
        HEDGEBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        HEDGEBOT_HEARTBEAT_FILE=str(tmp_path / "heartbeat"),
        HEDGEBOT_VENUE_URL=f"http://127.0.0.1:{port}",
        PYTHONPATH=str(ROOT),  # this checkout's code, whatever the working directory
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--interval", "0.2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("database created" in line for line in seen):  # a first start
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "".join(seen)  # exited before starting up
            seen.append(line)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        silent.close()
    while (line := lines.get(timeout=10)) is not None:
        seen.append(line)
    out = "".join(seen)
    assert proc.returncode == 0, out
    assert "stopped during start-up" in out and "hedgebot started" not in out
    assert "Traceback" not in out
