import io
import json

import structlog

from bot.logging import REDACTOR, bind_cycle, configure_logging, get_logger

KEY = "AKIAFAKEKEY123456"
SECRET = "verysecretvalue-0123456789abcdef"


def _capture(json_mode: bool) -> io.StringIO:
    out = io.StringIO()
    configure_logging(json=json_mode, secrets=[KEY, SECRET], stream=out)
    return out


def test_secrets_are_redacted_in_values_keys_and_exceptions():
    out = _capture(json_mode=True)
    log = get_logger("t")
    log.info("connecting", api_key=KEY, url=f"https://x/?apiKey={KEY}", note=f"s={SECRET}")
    log.info("nested", payload={"secret": SECRET, "headers": {"X-BAPI-SIGN": "abc123"}})
    try:
        raise RuntimeError(f"bad signature for {SECRET}")
    except RuntimeError:
        log.exception("boom")
    text = out.getvalue()
    assert KEY not in text and SECRET not in text
    assert "abc123" not in text
    assert text.count("***") >= 4


def test_console_output_is_redacted_too():
    out = _capture(json_mode=False)
    get_logger("t").warning("oops", detail=f"key {KEY}")
    assert KEY not in out.getvalue() and "***" in out.getvalue()


def test_database_password_in_url_is_redacted():
    assert (
        REDACTOR.scrub("postgresql+asyncpg://bot:hunter2@db/x")
        == "postgresql+asyncpg://bot:***@db/x"
    )


def test_every_line_carries_the_cycle_number():
    out = _capture(json_mode=True)
    structlog.contextvars.clear_contextvars()
    bind_cycle(42)
    get_logger("a").info("one")
    get_logger("b").warning("two")
    structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["cycle"] for line in lines] == [42, 42]


def test_stdlib_library_logs_are_scrubbed():
    import logging

    out = _capture(json_mode=False)
    logging.getLogger("ccxt").warning("request failed %s", SECRET)
    assert SECRET not in out.getvalue()
