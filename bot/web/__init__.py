"""The web side of hedgebot: a read-mostly JSON API, a dashboard and Prometheus metrics, all read
from the database the daemon writes (``hedgebot serve``, or ``hedgebot run --serve`` beside it)."""
