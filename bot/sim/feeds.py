"""Price and funding sources for the simulator: the ``PriceFeed`` protocol, a seeded synthetic
feed and a replay of history files. See ``feed_base`` for the time convention."""

from bot.sim.feed_base import BAR_KINDS, BarKind, FeedRangeError, PriceFeed, PricePoint
from bot.sim.replay import ReplayFeed, base_of
from bot.sim.synthetic import DEFAULT_ORIGIN, SyntheticFeed

__all__ = [
    "BAR_KINDS",
    "DEFAULT_ORIGIN",
    "BarKind",
    "FeedRangeError",
    "PriceFeed",
    "PricePoint",
    "ReplayFeed",
    "SyntheticFeed",
    "base_of",
]
