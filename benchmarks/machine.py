"""What a benchmark result was measured on: machine, interpreter, load and code version."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path


def machine() -> str:
    """Where, when and what: the load average matters (the machine may be shared), and so do
    uncommitted changes to the code being measured."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, nproc={os.cpu_count()}, "
        f"Python {platform.python_version()}, {platform.platform()}, load average {load}, "
        f"{code_version()}"
    )


def code_version() -> str:
    """The commit of the code actually imported. Run against an exported tree (see RESULTS.md)
    it is read from the tree's COMMIT file; in a checkout, uncommitted changes are counted."""
    import bot

    root = Path(bot.__file__).resolve().parents[1]
    stamp = root / "COMMIT"
    if stamp.exists():
        return f"commit {stamp.read_text().strip()[:12]} (exported tree {root})"
    git = ["git", "-C", str(root)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "bot", "strategies"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return f"commit unknown ({root})"
    changed = len(dirty.stdout.splitlines())
    extra = f" + {changed} uncommitted file(s) in bot/, strategies/" if changed else ""
    return f"commit {head.stdout.strip() or 'unknown'}{extra}"
