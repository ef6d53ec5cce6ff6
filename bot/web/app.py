"""The FastAPI application: /api/ (JSON), / (dashboard), /metrics (Prometheus), /docs."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.logging import get_logger
from bot.store.repo import Store
from bot.web.api import router
from bot.web.metrics import HedgeCollector
from bot.web.security import TokenGuard

log = get_logger("bot.web")
STATIC = files("bot.web") / "static"


def create_app(store: Store, *, token: str | None) -> Any:
    """The ASGI app. ``token`` None is allowed for loopback binds only (see ``security``)."""
    app = FastAPI(
        title="hedgebot",
        summary="Status, ledgers, reports and control of a hedgebot daemon",
        version="1",
    )
    app.state.store = store
    app.include_router(router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        # read the database on every scrape (the collector's collect() itself is sync)
        collector = HedgeCollector(store)
        await collector.refresh()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"))

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(Exception)
    async def failed(_request: Request, exc: Exception) -> JSONResponse:
        # one line, no traceback and no SQL in the response; details go to the log
        log.error("web request failed", error=f"{type(exc).__name__}")
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)

    return TokenGuard(app, token)
