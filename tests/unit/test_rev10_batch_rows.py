"""rev10: a batch's rows are matched to its orders by client id (ccxt reorders them)."""

from __future__ import annotations

from bot.exchange.ccxt_batch import by_client_id


def _row(link: str, oid: str = "", code: int = 0) -> dict:
    return {
        "id": oid or None,
        "clientOrderId": link or None,
        "info": {"orderLinkId": link, "code": code},
    }


def test_rows_in_any_order_go_to_their_own_orders() -> None:
    rows = [_row("b", code=110017), _row("c", "3"), _row("a", "1")]
    assert by_client_id(["a", "b", "c"], rows) == [rows[2], rows[0], rows[1]]


def test_refusals_without_a_client_id_fill_the_orders_left_in_order() -> None:
    rows = [_row("", code=10001), _row("b", "2"), _row("", code=110017)]
    assert by_client_id(["a", "b", "c"], rows) == [rows[0], rows[1], rows[2]]


def test_an_anonymous_row_that_is_not_a_refusal_is_never_guessed() -> None:
    rows = [_row("", "9"), _row("b", "2")]
    assert by_client_id(["a", "b"], rows) == [None, rows[1]]
    assert by_client_id(["a", "b", "c"], [_row("", code=1), _row("b", "2")]) == [
        None,
        rows[1],
        None,
    ]
