"""Flattened hedges: closed by the operator and kept flat until resumed, persisted.

`hedgebot flatten` only records the request; the daemon (the one process that talks to the venue
for this account) acts on it at its next cycle: the hedge's target becomes zero, the planner
closes its share of the short with reduce-only orders, and the stop-loss of a short that is gone
is cancelled. The hedge stays flat across restarts until `hedgebot resume --hedge NAME`.
Stopping the daemon (Ctrl-C, SIGTERM) is different: hedges and their stops stay in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.domain import HedgeSpec
from bot.store.repo import Store

CURSOR = "flattened_hedges"


async def flattened(store: Store) -> frozenset[str]:
    return names(await store.get_cursor(CURSOR))


def names(raw: str | None) -> frozenset[str]:
    """The flattened hedges stored under CURSOR."""
    return frozenset(json.loads(raw)) if raw else frozenset()


async def flatten(store: Store, hedges: Iterable[str], reason: str) -> frozenset[str]:
    """Mark hedges flattened; returns the whole flattened set."""
    names = sorted(set(hedges))
    now = (await flattened(store)) | set(names)
    await store.set_cursor(CURSOR, json.dumps(sorted(now)))
    await store.add_event(
        "flattened",
        f"{', '.join(names)} flattened: {reason}; `hedgebot resume --hedge NAME` re-hedges",
        level="warning",
        data={"hedges": names},
    )
    return now


async def unflatten(store: Store, hedges: Iterable[str]) -> frozenset[str]:
    names = set(hedges)
    now = (await flattened(store)) - names
    await store.set_cursor(CURSOR, json.dumps(sorted(now)))
    await store.add_event("unflattened", f"{', '.join(sorted(names))} hedged again")
    return now


def apply(specs: Sequence[HedgeSpec], names: frozenset[str]) -> list[HedgeSpec]:
    """A flattened hedge runs as a disabled hedge that closes its position."""
    return [replace(s, enabled=False, on_disable="close") if s.name in names else s for s in specs]
