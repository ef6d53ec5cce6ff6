"""`hedgebot serve` and `hedgebot run --serve`: the JSON API, the dashboard and /metrics."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from bot.web.security import DEFAULT_HOST, DEFAULT_PORT, BindRefused, WebOptions, check_bind

EXIT_CONFIG = 2  # as bot.cli: a setting that cannot work

host_option = click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on; anything but loopback needs HEDGEBOT_API_TOKEN.",
)
port_option = click.option(
    "--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True
)


def serve_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --serve/--host/--port to `run`; the command gets ``serve=(host, port) | None``."""

    @click.option("--serve", "serve_flag", is_flag=True, help="Serve the API and dashboard too.")
    @host_option
    @port_option
    @wraps(fn)
    def wrapper(*args: Any, serve_flag: bool, host: str, port: int, **kwargs: Any) -> Any:
        return fn(*args, serve=(host, port) if serve_flag else None, **kwargs)

    return wrapper


def web_options(runtime: Any, serve: tuple[str, int] | None) -> WebOptions | None:
    """The options to serve with, or exit 2 with one line when the bind needs a token."""
    if serve is None:
        return None
    token = runtime.api_token.get_secret_value() if runtime.api_token else None
    options = WebOptions(host=serve[0], port=serve[1], token=token or None)
    try:
        check_bind(options.host, options.token)
    except BindRefused as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    return options


@click.command()
@host_option
@port_option
def serve(host: str, port: int) -> None:
    """Serve the JSON API (/api/, /docs), the dashboard (/) and Prometheus metrics (/metrics)."""
    from bot.cli import _run, _runtime, _with_store, handles_errors

    @handles_errors
    def go() -> None:
        from bot.store.repo import Store
        from bot.web import server

        runtime = _runtime(None)
        options = web_options(runtime, (host, port))
        assert options is not None
        sock = server.prepare(options)
        _with_store(_exists)  # read-only: the database must exist, one line if not

        async def run() -> None:
            store = Store.from_url(runtime.database_url)
            try:
                await server.serve(store, options, sock)
            finally:
                await store.close()

        click.echo(f"serving on {server.url_of(sock)} (Ctrl-C stops)", err=True)
        _run(run())

    go()


async def _exists(_store: Any) -> None:
    return None
