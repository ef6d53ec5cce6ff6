"""Composition root: settings -> store -> exchange port -> strategies -> risk -> engine.

The only module that knows how the pieces are wired; constructors elsewhere do no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.engine import Engine
from bot.errors import ConfigError
from bot.exchange.port import ExchangePort
from bot.logging import REDACTOR, get_logger
from bot.planner import start_tag
from bot.settings import FileConfig, RuntimeSettings
from bot.store.repo import Store
from bot.store.revision import create_at_head, schema_status

log = get_logger("bot.app")


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    runtime: RuntimeSettings
    config: FileConfig
    store: Store
    port: ExchangePort
    engine: Engine
    closers: list[Callable[[], Any]] = field(default_factory=list)
    connection: Any = None  # the VenueConnection built here (stream mode opens its sockets)

    async def close(self) -> None:
        for closer in reversed(self.closers):
            result = closer()
            if hasattr(result, "__await__"):
                await result


async def ensure_schema(url: str, auto_migrate: bool) -> None:
    """A fresh database is migrated; one behind the newest migration is migrated only when
    HEDGEBOT_AUTO_MIGRATE is set, otherwise the bot stops and says what to run."""
    current, head = await schema_status(url)
    if current == head:
        return
    if current is None and await create_at_head(url):
        log.info("database created", head=head)
        return
    if current is None or auto_migrate:
        from bot.store.migrate import upgrade  # Alembic loads only to migrate

        log.info("migrating database", current=current, head=head)
        await upgrade(url)
        return
    raise ConfigError(
        [
            f"HEDGEBOT_DATABASE_URL: database schema is at revision {current}, this version needs "
            f"{head}: run `hedgebot db upgrade` (or set HEDGEBOT_AUTO_MIGRATE=true)"
        ]
    )


async def open_store(runtime: RuntimeSettings, clock: Callable[[], datetime] = wall_clock) -> Store:
    await ensure_schema(runtime.database_url, runtime.auto_migrate)
    return Store.from_url(runtime.database_url, clock=clock)


async def build_port(
    runtime: RuntimeSettings,
    config: FileConfig,
    closers: list[Callable[[], Any]],
    paper_state: Path | None = None,
    connections: list[Any] | None = None,
) -> tuple[ExchangePort, Callable[[], datetime]]:
    """The venue and the clock that goes with it. Paper mode without a venue URL starts the
    simulator inside this process, on a free loopback port, and talks to it through ccxt."""
    from bot.exchange.factory import VenueConnection, create_exchange

    key, secret = runtime.api_key, runtime.api_secret
    clock: Callable[[], datetime] = wall_clock
    url = runtime.venue_url
    if runtime.mode == "paper" and url is None:
        from bot.sim import persist
        from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, start_simulator

        resumed = persist.load(paper_state) if paper_state else None  # the same account again
        sim = await start_simulator(venue=resumed, rate_limits=True, **paper_sim_options(config))
        closers.append(sim.stop)
        if config.paper.data_dir is None:
            catch_up_with_wall_clock(sim.venue)
        if paper_state is not None:
            keeper = persist.Keeper(sim.venue, paper_state)
            keeper.start()
            closers.append(keeper.close)  # runs before sim.stop: the last state is saved
            log.info("paper venue state", path=str(paper_state), resumed=resumed is not None)
        url = sim.url
        key, secret = SecretStr(DEFAULT_API_KEY), SecretStr(DEFAULT_API_SECRET)
        venue = sim.venue
        clock = lambda: venue.now  # noqa: E731 - the embedded venue's simulated time
        log.info("embedded simulator started", url=url)
    elif runtime.mode == "paper" and key is None:
        from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET

        key, secret = SecretStr(DEFAULT_API_KEY), SecretStr(DEFAULT_API_SECRET)
    REDACTOR.register(
        key.get_secret_value() if key else None, secret.get_secret_value() if secret else None
    )
    conn = VenueConnection(
        venue=runtime.venue,
        mode=runtime.mode,
        api_key=key,
        api_secret=secret,
        url=url,
        allow_live=runtime.allow_live,
    )
    if connections is not None:  # the caller's copy, for stream mode
        connections.append(conn)
    port = create_exchange(conn)
    closers.append(port.close)
    return port, clock


# a paper venue resumed after a long absence catches up at most this far (the rest is skipped)
MAX_CATCH_UP = timedelta(days=7)


def catch_up_with_wall_clock(venue: Any) -> None:
    """A synthetic paper venue keeps wall-clock time, so the log and the database have one time
    base: a new venue starts at the whole minute (its bars' origin) and a resumed one at its saved
    time; both are walked to now (prices, funding and triggers happen on the way, as they would
    have while the bot was away)."""
    now = wall_clock()
    if venue.now >= now:
        return
    target = min(now, venue.now + MAX_CATCH_UP)
    if now - venue.now > timedelta(minutes=1):
        log.info("paper venue catching up", since=venue.now.isoformat(), to=target.isoformat())
    venue.advance_to(target)


def paper_sim_options(config: FileConfig) -> dict[str, Any]:
    paper = config.paper
    # every coin the hedges name gets its markets (a zero balance lists them), so each README
    # example runs on the embedded venue; the configured wallet wins
    coins = {h.spot_asset for h in config.hedges if h.spot_asset}
    coins |= {h.perp.split("/")[0] for h in config.hedges if h.perp}
    for h in config.hedges:
        coins |= {str(c).split("/")[0] for k in ("assets", "perps") for c in h.params.get(k, ())}
    return {
        "wallet": {**{c: 0 for c in sorted(coins)}, **dict(paper.wallet)},
        "seed": paper.seed,
        "speed": paper.speed,
        "data_dir": paper.data_dir,
    }


async def build_app(
    runtime: RuntimeSettings,
    config: FileConfig,
    *,
    port: ExchangePort | None = None,
    clock: Callable[[], datetime] | None = None,
    paper_state: Path | None = None,
) -> App:
    closers: list[Callable[[], Any]] = []
    connections: list[Any] = []
    # the store stamps rows with the engine's clock (the venue's time in paper mode), so cooldowns
    # and order-rate windows compare like with like; the clock is known once the port is built
    clock_box: list[Callable[[], datetime]] = [clock or wall_clock]
    store = await open_store(runtime, clock=lambda: clock_box[0]())
    closers.append(store.close)
    try:
        if port is None:
            port, venue_clock = await build_port(runtime, config, closers, paper_state, connections)
            clock = clock or venue_clock
            clock_box[0] = clock
        kill_file = runtime.kill_switch_file
        engine = Engine(
            port=port,
            store=store,
            config=config,
            clock=clock or wall_clock,
            tag=start_tag(),  # client ids never repeat across starts or restored databases
            kill_switch=(lambda: kill_file.exists()) if kill_file else (lambda: False),
        )
        await engine.start()
    except BaseException:
        for closer in reversed(closers):
            result = closer()
            if hasattr(result, "__await__"):
                await result
        raise
    return App(runtime, config, store, port, engine, closers, next(iter(connections), None))
