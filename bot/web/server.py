"""Serving the app with uvicorn: on its own (`hedgebot serve`) or beside the daemon in the same
event loop (`hedgebot run --serve`), where a web failure must never stop or slow a cycle."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Generator

import uvicorn

from bot.errors import HedgebotError
from bot.logging import REDACTOR, get_logger
from bot.store.repo import Store
from bot.web.app import create_app
from bot.web.security import WebOptions, check_bind

log = get_logger("bot.web")


class WebStartError(HedgebotError):
    """The API cannot start (port taken, token missing for a non-loopback bind)."""


def bind(host: str, port: int) -> socket.socket:
    """Bind before anything else starts, so a taken port is one clear line, not a trade."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise WebStartError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise WebStartError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port"
        ) from None
    sock.setblocking(False)
    return sock


class _QuietServer(uvicorn.Server):
    """Leaves the signals to our loop's handlers, which stop the server by ``should_exit``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _server(store: Store, options: WebOptions) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(store, token=options.token),
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
    )
    return _QuietServer(config)


def prepare(options: WebOptions) -> socket.socket:
    check_bind(options.host, options.token)  # checked by the CLI already; never serve open
    if options.token:
        REDACTOR.register(options.token)
    return bind(options.host, options.port)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


async def serve(store: Store, options: WebOptions, sock: socket.socket) -> None:
    """Until SIGINT or SIGTERM, which end it cleanly (exit 0, like the daemon)."""
    server = _server(store, options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    await server.serve(sockets=[sock])


@contextlib.asynccontextmanager
async def beside_daemon(options: WebOptions | None, database_url: str) -> AsyncIterator[str | None]:
    """Runs the API in this event loop while the body runs; a no-op when ``options`` is None.
    Its own Store (own connections) so web reads never queue behind a cycle's transaction."""
    if options is None:
        yield None
        return
    sock = prepare(options)
    store = Store.from_url(database_url)
    server = _server(store, options)
    task = asyncio.create_task(_watched(server, sock), name="hedgebot-web")
    log.info("web API and dashboard serving", url=url_of(sock))
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=10)  # cancels a server that will not stop
        await store.close()
        sock.close()


async def _watched(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except (Exception, SystemExit) as exc:  # uvicorn exits on some failures: not the daemon
        log.error("web API stopped; trading goes on", error=f"{type(exc).__name__}: {exc}")
