"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol, for tests that must
see a page the way a browser renders it. No fixed sleeps: ``wait_for`` polls a JavaScript
condition against a deadline.

    async with Chromium.start(tmp_path) as browser:
        page = await browser.open("http://127.0.0.1:8080/")
        await page.wait_for("document.body.dataset.rendered > 0")
        data = await page.evaluate("document.title")
        await page.screenshot(tmp_path / "page.png")
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

NOT_INSTALLED = "chromium is not installed (.ci/run installs Debian's chromium package)"


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# skipped only on a developer machine without chromium; under CI (.ci/run sets CI and installs it) a missing
# browser fails the tests instead of hiding them
needs_chromium = pytest.mark.skipif(
    chromium_binary() is None and not os.environ.get("CI"), reason=NOT_INSTALLED
)


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        await self._ws.send_json({"id": msg_id, "method": method, "params": params})
        async for message in self._ws:  # events interleave with answers: skip them
            data = json.loads(message.data)
            if data.get("id") == msg_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                result: dict[str, Any] = data["result"]
                return result
        raise RuntimeError("the browser closed the connection")

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, condition: str, seconds: float = 30.0) -> Any:
        deadline = time.monotonic() + seconds
        error = ""
        while True:
            try:  # the document may not exist yet while the page loads
                value = await self.evaluate(condition)
            except RuntimeError as exc:
                value, error = None, str(exc)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"page never satisfied: {condition} {error}")
            await asyncio.sleep(0.05)  # poll interval of a condition with a deadline

    async def screenshot(self, path: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path


class Chromium:
    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc, self.port = proc, port
        self._session = aiohttp.ClientSession()

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, folder: Path, width: int = 1280, height: int = 900
    ) -> AsyncIterator[Chromium]:
        binary = chromium_binary()
        assert binary is not None, NOT_INSTALLED
        profile = folder / "chromium-profile"
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "DevToolsActivePort").unlink(missing_ok=True)  # a previous run's port
        proc = await asyncio.create_subprocess_exec(
            binary,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        browser = None
        try:
            port = await cls._devtools_port(profile / "DevToolsActivePort", proc)
            browser = cls(proc, port)
            yield browser
        finally:
            if browser is not None:
                await browser._session.close()
            if proc.returncode is None:
                proc.kill()
            await proc.wait()

    @staticmethod
    async def _devtools_port(path: Path, proc: asyncio.subprocess.Process) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}")
            port = await asyncio.to_thread(_read_port, path)
            if port is not None:
                return port
            await asyncio.sleep(0.05)  # poll interval of a condition with a deadline
        raise RuntimeError("chromium did not open its DevTools port")

    async def open(self, url: str) -> Page:
        async with self._session.put(f"http://127.0.0.1:{self.port}/json/new?{url}") as r:
            target = await r.json(content_type=None)
        ws = await self._session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        await page.call("Page.enable")
        return page


def _read_port(path: Path) -> int | None:
    """Chromium writes its DevTools port, then the browser's path, into this file."""
    text = path.read_text() if path.exists() else ""
    return int(text.split()[0]) if text.strip() else None
