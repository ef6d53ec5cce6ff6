"""The exchange boundary: the port protocol and its adapters. Only this package imports ccxt,
and it imports only the exchange classes it uses (``ccxt_lean``: a fast start)."""

from bot.exchange import ccxt_lean

ccxt_lean.install()
