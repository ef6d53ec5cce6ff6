"""rev10: a batch's rows are matched to its orders by client id (ccxt sorts them by time)."""

from __future__ import annotations

from bot.exchange.ccxt_batch import by_client_id


def _row(link: str, oid: str = "", code: int = 0, ts: int | None = 1) -> dict:
    info = {"orderLinkId": link, "code": code}
    return {"id": oid or None, "clientOrderId": link or None, "timestamp": ts, "info": info}


def test_rows_in_any_order_go_to_their_own_orders() -> None:
    rows = [_row("b", code=110017, ts=None), _row("c", "3"), _row("a", "1")]
    assert by_client_id(["a", "b", "c"], rows) == [rows[2], rows[0], rows[1]]


def test_refusals_without_a_client_id_fill_the_orders_left_in_order() -> None:
    rows = [_row("", code=10001, ts=None), _row("", code=110017, ts=None), _row("b", "2")]
    assert by_client_id(["a", "b", "c"], rows) == [rows[0], rows[2], rows[1]]


def test_an_anonymous_row_that_is_not_a_refusal_is_never_guessed() -> None:
    rows = [_row("", "9"), _row("b", "2")]
    assert by_client_id(["a", "b"], rows) == [None, rows[1]]
    refused = [_row("", code=1, ts=None), _row("b", "2")]
    assert by_client_id(["a", "b", "c"], refused) == [None, refused[1], None]


def test_rows_without_times_keep_the_request_order_checked_by_client_id() -> None:
    rows = [_row("", "1", ts=None), _row("x", "2", ts=None), _row("c", code=1, ts=None)]
    assert by_client_id(["a", "b", "c"], rows) == [rows[0], None, rows[2]]
