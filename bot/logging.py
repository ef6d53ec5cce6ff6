"""structlog setup: readable console or JSON lines, cycle context, and secret redaction.

Redaction works two ways: values under secret-looking keys are masked, and any registered secret
value (the API key and secret, the database password) is masked wherever it appears in a string.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from typing import Any

# structlog.dev loads rich (~50 ms of every command's start) when it is installed, for pretty
# tracebacks hedgebot does not use (_plain_traceback below): hidden while structlog loads
_HIDE_RICH = "rich" not in sys.modules
if _HIDE_RICH:
    sys.modules["rich"] = None  # type: ignore[assignment]
try:
    import structlog
finally:
    if _HIDE_RICH:
        del sys.modules["rich"]

REDACTED = "***"
_SECRET_KEY = re.compile(r"(secret|password|passwd|api_?key|token|signature|sign$|auth)", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()

    def register(self, *values: str | None) -> None:
        for value in values:
            if value and len(value) >= 4:
                self._values.add(value)

    def scrub(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return _URL_PASSWORD.sub(r"\1" + REDACTED + r"\3", text)

    def scrub_value(self, key: str, value: Any) -> Any:
        if _SECRET_KEY.search(key) and value not in (None, "", False):
            return REDACTED
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub_value(key, v) for v in value)
        if isinstance(value, BaseException):
            return self.scrub(f"{type(value).__name__}: {value}")
        return value

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            event_dict[key] = self.scrub_value(key, event_dict[key])
        return event_dict


REDACTOR = Redactor()


def configure_logging(
    *,
    json: bool = False,
    level: str = "info",
    secrets: Iterable[str | None] = (),
    stream: Any = None,
) -> None:
    REDACTOR.register(*secrets)
    out = stream or sys.stderr
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _stamp,
            structlog.processors.format_exc_info if json else _noop,
            REDACTOR,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Libraries log through stdlib (ccxt, aiohttp, sqlalchemy): keep them quiet and scrubbed.
    handler = logging.StreamHandler(out)
    handler.addFilter(_StdlibScrubber())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def wall_time() -> datetime:
    return datetime.now(UTC)


_CLOCK: list[Callable[[], datetime]] = [wall_time]


def set_clock(clock: Callable[[], datetime]) -> None:
    """Stamp log lines with the bot's clock (the venue's time in paper mode), the same time base
    as the database; UTC wall clock until the daemon sets it."""
    _CLOCK[0] = clock


def _stamp(_l: Any, _m: str, ev: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    try:
        now = _CLOCK[0]()
    except Exception:  # a clock that cannot answer must not lose the log line
        now = datetime.now(UTC)
    ev["timestamp"] = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return ev


def _noop(_l: Any, _m: str, ev: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return ev


def _plain_traceback(sio: Any, exc_info: Any) -> None:
    structlog.dev.plain_traceback(sio, exc_info)
    text = sio.getvalue()
    sio.seek(0)
    sio.truncate()
    sio.write(REDACTOR.scrub(text))


class _StdlibScrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACTOR.scrub(record.getMessage())
        record.args = ()
        return True


def bind_cycle(cycle: int) -> None:
    structlog.contextvars.bind_contextvars(cycle=cycle)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name) if name else structlog.get_logger()
