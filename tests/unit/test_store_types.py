"""Column types and records, without a database: what is refused, what is converted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain import IntentPurpose, IntentStatus, OrderKind, Side, frozen_map
from bot.store.db import normalize_url
from bot.store.records import StoredIntent
from bot.store.types import JSONText, Money, UTCDateTime, dumps

SQLITE = sqlite.dialect()
PG = postgresql.dialect()


@pytest.mark.parametrize("text", ["0.1", "1E-18", "123456789012345.123456789", "-7.25", "0.010"])
def test_money_round_trips_through_sqlite_text(text: str) -> None:
    money = Money()
    stored = money.process_bind_param(Decimal(text), SQLITE)
    assert stored == text
    back = money.process_result_value(stored, SQLITE)
    assert back == Decimal(text) and str(back) == text


def test_money_binds_a_decimal_on_postgres() -> None:
    assert Money().process_bind_param(Decimal("0.010"), PG) == Decimal("0.010")


@pytest.mark.parametrize("bad", [0.1, "0.1", True])
def test_money_refuses_non_decimals(bad: object) -> None:
    with pytest.raises(TypeError):
        Money().process_bind_param(bad, SQLITE)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_money_refuses_non_finite(bad: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        Money().process_bind_param(Decimal(bad), SQLITE)


def test_money_accepts_int_as_exact_decimal() -> None:
    assert Money().process_bind_param(3, SQLITE) == "3"


def test_money_uses_numeric_on_postgres_and_text_on_sqlite() -> None:
    assert Money().load_dialect_impl(PG).__class__.__name__.upper().endswith("NUMERIC")
    assert "TEXT" in str(Money().load_dialect_impl(SQLITE).compile(dialect=SQLITE))


def test_utc_datetime_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2024, 1, 1), SQLITE)


def test_utc_datetime_converts_other_zones_to_utc() -> None:
    tokyo = datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    stored = UTCDateTime().process_bind_param(tokyo, SQLITE)
    assert stored == datetime(2024, 1, 1, 0, 0)  # SQLite keeps UTC wall time, no zone
    back = UTCDateTime().process_result_value(stored, SQLITE)
    assert back == tokyo and back.tzinfo is UTC


def test_utc_datetime_returns_utc_from_aware_values() -> None:
    aware = datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    back = UTCDateTime().process_result_value(aware, PG)
    assert back == aware and back.utcoffset() == timedelta(0)


def test_json_text_keeps_decimal_digits_and_enums() -> None:
    data = {"qty": Decimal("0.010"), "side": Side.SELL, "nested": frozen_map({"a": (1, 2)})}
    stored = JSONText().process_bind_param(data, SQLITE)
    assert stored == dumps(data)
    assert JSONText().process_result_value(stored, SQLITE) == {
        "nested": {"a": [1, 2]},
        "qty": "0.010",
        "side": "sell",
    }


def test_json_text_refuses_unknown_objects() -> None:
    with pytest.raises(TypeError, match="not JSON serialisable"):
        dumps({"x": object()})


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///./data/x.db", "sqlite+aiosqlite"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg"),
        ("postgres://u:p@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg"),
    ],
)
def test_plain_urls_get_the_async_driver(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


def test_stored_intent_gives_back_the_domain_intent() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    stored = StoredIntent(
        id=1,
        client_order_id="hb-1-btc-0",
        cycle=1,
        hedge="btc",
        symbol="BTC/USDT:USDT",
        side=Side.SELL,
        kind=OrderKind.STOP_MARKET,
        purpose=IntentPurpose.STOP,
        qty=Decimal("0.010"),
        price=None,
        trigger_price=Decimal("70000.5"),
        reduce_only=True,
        status=IntentStatus.OPEN,
        venue_order_id="v1",
        filled_qty=Decimal(0),
        avg_price=None,
        reason=None,
        created_at=now,
        updated_at=now,
    )
    intent = stored.to_intent()
    assert intent.client_order_id == "hb-1-btc-0"
    assert intent.kind is OrderKind.STOP_MARKET and intent.purpose is IntentPurpose.STOP
    assert intent.trigger_price == Decimal("70000.5") and intent.reduce_only
