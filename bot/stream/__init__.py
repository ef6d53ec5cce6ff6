"""Stream mode (``[bot] mode = "stream"``): the venue's private streams start cycles early.

The rule: nothing is decided from stream data. A stream update is only a trigger to run the
normal cycle, which reads the venue over REST; the polling cycle keeps its interval as the
reconcile of record, and after a lost or replaced socket the next cycle is a full REST reconcile.
"""
