"""Strategy registry: built-ins plus any package exposing the entry-point group
``hedgebot.strategies``."""

from __future__ import annotations

from importlib.metadata import entry_points

from strategies.base import Strategy
from strategies.direct import DirectHedge

ENTRY_POINT_GROUP = "hedgebot.strategies"

_BUILTINS: dict[str, type[Strategy]] = {DirectHedge.name: DirectHedge}


def registry() -> dict[str, type[Strategy]]:
    """Name -> class, built-ins first; an entry point may add names but not replace a built-in."""
    found = dict(_BUILTINS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, Strategy):
            found[ep.name] = cls
    return found


def get_strategy(name: str) -> type[Strategy]:
    reg = registry()
    if name not in reg:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(reg))}")
    return reg[name]
