"""The exchange simulator: one venue model, two fronts.

- ``venue.Venue``: the deterministic Bybit-like unified account (matching in ``matching``, reads in
  ``venue_queries``, account maths in ``account``, rules in ``rules``); driven by a ``PriceFeed``
  from ``feeds`` (synthetic, replay) or ``manual.ManualFeed`` (scripted, for tests).
- ``server.start_simulator``: the Bybit v5 REST front (``bybit_http``) that ccxt talks to, with
  HMAC auth (``bybit_auth``) and injected ``faults``.
- ``bot.exchange.inprocess.InProcessExchange``: the port calling the venue directly.
"""
