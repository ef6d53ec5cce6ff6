"""The project's error tree. Exchange failures are classified once, at the exchange boundary,
into these classes; nothing above ``bot/exchange`` ever sees a ccxt exception."""

from __future__ import annotations


class HedgebotError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(HedgebotError):
    """Invalid configuration. ``problems`` holds one line per problem, each naming its key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class ExchangeError(HedgebotError):
    """Base of classified venue errors. ``operation`` names what we were doing."""

    def __init__(self, message: str, *, operation: str = "", code: str | None = None) -> None:
        self.operation = operation
        self.code = code
        super().__init__(message)


class TransientError(ExchangeError):
    """Worth retrying later (network, 5xx, timeouts on reads). Reads and cancels retry it."""


class RateLimited(TransientError):
    """The venue asked us to slow down."""


class AmbiguousSubmit(ExchangeError):
    """An order create whose outcome is unknown (timeout, dropped response). Never retried blindly:
    resolved by looking the client order id up on the venue."""


class OrderRejected(ExchangeError):
    """The venue refused the order; ``str(exc)`` carries the venue's reason."""


class OrderNotFound(ExchangeError):
    """The venue does not know the order (cancel or lookup of an id it never saw)."""


class FatalExchangeError(ExchangeError):
    """Bad keys, missing permission, unknown symbol: retrying cannot help; the bot halts."""
