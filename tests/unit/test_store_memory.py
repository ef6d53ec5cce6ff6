"""The Store on an in-memory SQLite database built from the models (no migrations, no files)."""

from __future__ import annotations

from pathlib import Path

from bot.domain import TradingState
from bot.store import Store
from bot.store.db import make_engine


async def test_in_memory_store_keeps_data_across_calls() -> None:
    store = Store.from_url("sqlite+aiosqlite://")
    try:
        await store.create_schema()
        await store.set_trading_state(TradingState.HALTED, "kill switch")
        await store.set_cursor("fills", "42")
        assert await store.trading_state() == (TradingState.HALTED, "kill switch")
        assert await store.get_cursor("fills") == "42"
    finally:
        await store.close()


def test_constructing_does_no_io(tmp_path: Path) -> None:
    target = tmp_path / "not-yet" / "bot.db"
    Store.from_url(f"sqlite+aiosqlite:///{target}")
    assert not target.parent.exists()


def test_repr_hides_the_password() -> None:
    store = Store.from_url("postgresql://bot:s3cret-pw@db.example/hedgebot")
    assert "s3cret-pw" not in repr(store) and "***" in repr(store)


async def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            mode = await conn.exec_driver_sql("PRAGMA journal_mode")
            assert mode.scalar() == "wal"
    finally:
        await engine.dispose()
