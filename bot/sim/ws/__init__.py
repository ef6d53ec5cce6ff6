"""The simulator's Bybit v5 websocket front: public ``tickers.<SYMBOL>`` on /v5/public/linear and
/v5/public/spot, private ``order``, ``execution``, ``position`` and ``wallet`` on /v5/private.

``changes.py`` turns the venue's state into topic messages (a diff since the last publication),
``hub.py`` serves the sockets (auth, subscribe, ping/pong, faults) and publishes after every
request that may have changed the venue and after every clock tick.
"""
