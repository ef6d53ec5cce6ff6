"""Who may talk to the API. Loopback binds are open for reading; any other bind needs
HEDGEBOT_API_TOKEN and then every request carries it as a bearer token. Control endpoints always
need the token. The dashboard's static shell (no data in it) and the OpenAPI page are served without
one, because a browser cannot attach a bearer token to a page load; everything they show comes from
/api/, which checks it."""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_PATHS = frozenset({"/", "/favicon.ico", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
CONTROL_PREFIX = "/api/control/"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class WebOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None  # never printed: see __repr__

    def __repr__(self) -> str:
        hidden = "'***'" if self.token else "None"
        return f"WebOptions(host={self.host!r}, port={self.port}, token={hidden})"


class BindRefused(ValueError):
    """Serving on a non-loopback address without a token."""


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    if not is_loopback(host) and not token:
        raise BindRefused(
            f"refusing to serve on {host}: set HEDGEBOT_API_TOKEN (a long random string) "
            "to serve beyond loopback, or bind 127.0.0.1"
        )


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return b""


def _host_name(raw: bytes) -> str:
    text = raw.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def bearer_matches(scope: Scope, token: str) -> bool:
    scheme, _, given = _header(scope, b"authorization").decode("latin-1").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    )


class TokenGuard:
    """ASGI middleware; ``token`` None means a loopback bind without one."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        denial = self._denial(scope, path)
        if denial is None:
            await self._guarded(scope, receive, send)
            return
        await _reply(send, *denial)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's own handler already answered a failure with a one-line 500; what it
        re-raises stops here, so no traceback reaches the console (or the daemon's loop)."""
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if not started:
                await _reply(send, 500, f"internal error ({type(exc).__name__})")

    def _denial(self, scope: Scope, path: str) -> tuple[int, str] | None:
        control = path.startswith(CONTROL_PREFIX)
        if self.token is None:
            # open for reading on loopback only: a page on another site that rebinds its own
            # name to 127.0.0.1 still sends its own name as Host, and is refused here
            if _host_name(_header(scope, b"host")) not in LOOPBACK_NAMES:
                return 403, "host not allowed: use 127.0.0.1 or localhost"
            if control:
                return 403, "control endpoints need HEDGEBOT_API_TOKEN set on the server"
            return None
        public = path in PUBLIC_PATHS or path.startswith("/static/")
        if public and not control:
            return None
        if not bearer_matches(scope, self.token):
            return 401, "missing or wrong bearer token"
        return None


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
