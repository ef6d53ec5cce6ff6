"""Venue rejections, carrying Bybit v5's retCode and message so every front maps them 1:1."""

from __future__ import annotations

PARAMS_ERROR = 10001
ORDER_NOT_FOUND = 110001
INSUFFICIENT_MARGIN = 110007
REDUCE_ONLY_RULE = 110017
LEVERAGE_NOT_MODIFIED = 110043
DUPLICATE_LINK_ID = 110072
TRIGGER_EXPECT_RISING = 110092
TRIGGER_EXPECT_FALLING = 110093
PERP_MIN_NOTIONAL = 110094
SPOT_INSUFFICIENT = 170131
SPOT_MIN_QTY = 170136
SPOT_QTY_DECIMALS = 170137
SPOT_MIN_VALUE = 170140


class VenueError(Exception):
    """A request the venue refuses; ``ret_code``/``message`` are what Bybit would answer."""

    def __init__(self, ret_code: int, message: str) -> None:
        self.ret_code = ret_code
        self.message = message
        super().__init__(f"{ret_code} {message}")


def params_error(detail: str) -> VenueError:
    return VenueError(PARAMS_ERROR, f"params error: {detail}")
