"""Operator actions on the persisted trading state, shared by the command line and the web API."""

from __future__ import annotations

from bot.domain import TradingState
from bot.store.repo import Store


async def halt(store: Store, reason: str) -> tuple[TradingState, str]:
    """Stop all trading until resumed (survives restarts). Returns the state before."""
    before = await store.trading_state()
    await store.set_trading_state(TradingState.HALTED, reason)
    await store.add_event("halted", reason, level="warning")
    return before


async def resume(store: Store, reason: str) -> tuple[TradingState, str]:
    """Clear a HALTED (or REDUCING) state. Returns the state before."""
    state, why = before = await store.trading_state()
    await store.set_trading_state(TradingState.ACTIVE, reason)
    await store.add_event("resumed", f"{state.value} ({why}) -> active: {reason}")
    return before
