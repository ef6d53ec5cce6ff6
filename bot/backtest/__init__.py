"""Backtests: recorded history replayed through the live engine (``run``), several configurations
side by side (``compare``), and the checks of the data they read (``data``)."""
