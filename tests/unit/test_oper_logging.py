"""Log lines carry the bot's clock (the venue's time in paper mode), like the database rows."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from bot.logging import configure_logging, get_logger, set_clock, wall_time


def test_log_lines_are_stamped_with_the_bots_clock() -> None:
    buf = io.StringIO()
    configure_logging(stream=buf, json=True)
    set_clock(lambda: datetime(2024, 3, 1, 0, 30, tzinfo=UTC))
    try:
        get_logger("t").info("cycle done")
    finally:
        set_clock(wall_time)
    assert '"timestamp": "2024-03-01T00:30:00Z"' in buf.getvalue()
