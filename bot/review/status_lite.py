"""`hedgebot status` on a SQLite file with the standard library's sqlite3 (issue 10.5: status
under 0.5 s, where importing SQLAlchemy alone took ~0.3 s).

Only the plain case is answered here: a ``sqlite[+aiosqlite]:///path`` URL whose file exists
with the schema at head. Anything else (Postgres, a URI filename, memory, an older schema, any
error) returns None and the Store answers, with its one-line errors. The rows are decoded as the
store's column types do (bot/store/types.py: money is text, times are UTC text, JSON is text);
tests/integration/test_status_lite.py checks that both paths give the same tables."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.domain import IntentPurpose, IntentStatus, OrderKind, Side, TradingState, frozen_map
from bot.review.queries import STATUS_CYCLES, STATUS_ORDERS, status_tables
from bot.store.records import StoredCycle, StoredIntent, StoredTarget
from bot.store.schema_head import VERSION_TABLE, head_revision

_PLAIN = re.compile(r"^sqlite(?:\+aiosqlite)?:///(?!file:)([^?]+)$")
_INTENT = (
    "id, client_order_id, cycle, hedge, symbol, side, kind, purpose, qty, price, trigger_price, "
    "reduce_only, status, venue_order_id, filled_qty, avg_price, reason, created_at, updated_at"
)


def sqlite_path(url: str) -> Path | None:
    found = _PLAIN.match(url)
    if found is None or found.group(1) in ("", ":memory:"):
        return None
    return Path(found.group(1)).expanduser().resolve()


def status_lite(url: str) -> dict[str, list[dict[str, Any]]] | None:
    """The tables of `status`, or None when the Store must answer."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:  # mode=rw: never creates a file; query_only: never writes
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA query_only = ON")
        return _read(conn)
    except (sqlite3.Error, ValueError, KeyError, TypeError):
        return None
    finally:
        conn.close()


def _read(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]] | None:
    version = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    if version is None or version[0] != head_revision():
        return None
    risk = conn.execute("SELECT state, reason FROM risk_state WHERE id = 1").fetchone()
    state, reason = (TradingState(risk[0]), risk[1]) if risk else (TradingState.ACTIVE, "")
    cycles = [
        StoredCycle(n, _time(s), _time(f), o, TradingState(t), frozen_map(_json(j)))
        for n, s, f, o, t, j in conn.execute(
            "SELECT number, started_at, finished_at, outcome, trading_state, summary FROM cycles "
            "ORDER BY number DESC LIMIT ?",
            (STATUS_CYCLES,),
        )
    ]
    targets = {
        (h, s): StoredTarget(
            c, h, s, _money(cur), _money(tgt), _money(r), why, frozen_map(_json(d) or {}), _time(at)
        )
        for c, h, s, cur, tgt, r, why, d, at in conn.execute(
            "SELECT cycle, hedge, symbol, current_size, target_size, ratio, reason, details, "
            "created_at FROM targets WHERE id IN (SELECT max(id) FROM targets GROUP BY hedge, "
            "symbol)"
        )
    }
    intents = [
        _intent(row)
        for row in conn.execute(
            f"SELECT {_INTENT} FROM intents ORDER BY id DESC LIMIT ?", (STATUS_ORDERS,)
        )
    ]
    received = sum((Decimal(a) for (a,) in conn.execute("SELECT amount FROM funding_payments")),
                   Decimal(0))  # fmt: skip
    return status_tables(state, reason, cycles, targets, intents, received)


def _intent(r: tuple[Any, ...]) -> StoredIntent:
    return StoredIntent(
        id=r[0], client_order_id=r[1], cycle=r[2], hedge=r[3], symbol=r[4], side=Side(r[5]),
        kind=OrderKind(r[6]), purpose=IntentPurpose(r[7]), qty=_money(r[8]),
        price=_money(r[9]), trigger_price=_money(r[10]), reduce_only=bool(r[11]),
        status=IntentStatus(r[12]), venue_order_id=r[13], filled_qty=_money(r[14]),
        avg_price=_money(r[15]), reason=r[16], created_at=_time(r[17]), updated_at=_time(r[18]),
    )  # fmt: skip


def _money(text: Any) -> Any:
    return None if text is None else Decimal(str(text))


def _time(text: Any) -> Any:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _json(text: Any) -> Any:
    if text is None:
        return None
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {"value": loaded}
