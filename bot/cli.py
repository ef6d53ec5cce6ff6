"""The `hedgebot` command line.

Exit codes: 0 success, 1 other errors (e.g. the venue unreachable at start-up), 2 invalid
configuration (one line per problem, naming the key), 3 fatal venue error (bad keys, unknown
symbol: the bot halts with a persisted reason), 4 database missing, unreadable, corrupt or
unreachable, 5 another daemon already runs on this database. Errors print one line; the traceback
goes to the debug log (HEDGEBOT_LOG_LEVEL=debug).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.cli_web import serve as serve_command
from bot.cli_web import serve_options, web_options
from bot.errors import ConfigError, FatalExchangeError, HedgebotError
from bot.logging import REDACTOR, configure_logging, get_logger, set_clock, wall_time
from bot.review.render import FORMATS, render
from bot.settings import RuntimeSettings, load_config_file, load_runtime, refuse_live_without_opt_in
from bot.store.errors import AlreadyRunning, DatabaseUnavailable

T = TypeVar("T")
EXIT_CONFIG = 2
EXIT_FATAL = 3
EXIT_DATABASE = 4
EXIT_LOCKED = 5
DEBUG_HINT = "traceback with HEDGEBOT_LOG_LEVEL=debug"


def _fail_config(exc: ConfigError) -> None:
    click.echo("invalid configuration:", err=True)
    for line in exc.problems:
        click.echo(f"  {REDACTOR.scrub(line)}", err=True)
    sys.exit(EXIT_CONFIG)


def _fail(line: str, code: int) -> None:
    if sys.exc_info()[0] is not None:
        get_logger("bot.cli").debug("error details", exc_info=True)
    first = REDACTOR.scrub(line).strip().splitlines()
    click.echo(first[0] if first else line, err=True)
    sys.exit(code)


def handles_errors(fn: Callable[..., T]) -> Callable[..., T]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            _fail_config(exc)
        except FatalExchangeError as exc:
            _fail(f"fatal venue error, trading halted: {exc}", EXIT_FATAL)
        except DatabaseUnavailable as exc:
            _fail(f"database error: {exc}", EXIT_DATABASE)
        except AlreadyRunning as exc:
            _fail(str(exc), EXIT_LOCKED)
        except HedgebotError as exc:  # e.g. the venue unreachable at start-up, after retries
            _fail(f"error: {exc}", 1)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # a bug or an unforeseen failure: one line, the rest to debug
            _fail(f"unexpected error: {type(exc).__name__}: {exc} ({DEBUG_HINT})", 1)
        raise AssertionError("unreachable")

    return wrapper


def _runtime(config: Path | None, **overrides: Any) -> RuntimeSettings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if config is not None:
        values["config"] = config
    runtime = load_runtime(values)
    configure_logging(
        json=runtime.log_json,
        level=runtime.log_level,
        secrets=[
            s.get_secret_value() if s else None
            for s in (runtime.api_key, runtime.api_secret, runtime.notify_urls)
        ],
    )
    return runtime


def _run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


config_option = click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML file with hedges and limits (default: $HEDGEBOT_CONFIG, else the embedded demo).",
)
format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """hedgebot keeps spot holdings hedged with short perpetual futures."""
    # until the settings are read: stderr, and debug only when asked (error tracebacks go there)
    level = os.environ.get("HEDGEBOT_LOG_LEVEL", "info").lower()
    configure_logging(level=level if level in ("debug", "info", "warning", "error") else "info")


@main.command()
@config_option
@click.option("--max-cycles", type=click.IntRange(min=1), default=None, help="Stop after N cycles.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds between cycles (default: [bot] interval of the config).",
)
@click.option("--venue-url", default=None, help="Use an external simulator (`hedgebot sim`).")
@click.option(
    "--i-understand-live",
    "confirm_live",
    is_flag=True,
    help="Confirm trading on mainnet (needs HEDGEBOT_ALLOW_LIVE=true too).",
)
@serve_options
@handles_errors
def run(
    config: Path | None,
    max_cycles: int | None,
    interval: float | None,
    venue_url: str | None,
    confirm_live: bool,
    serve: tuple[str, int] | None,
) -> None:
    """Run the hedging daemon (paper mode on the embedded simulator by default)."""
    from bot.cli_check import heartbeat_writable, offline_problems

    runtime = _run_settings(config, venue_url)
    refuse_live_without_opt_in(runtime, confirm_live)
    _, _, problems = offline_problems(
        {k: v for k, v in {"config": config, "venue_url": venue_url}.items() if v}, config
    )
    if problems:
        raise ConfigError(problems)
    heartbeat_writable(runtime.heartbeat_file)  # before anything trades
    file_config = load_config_file(runtime.config)
    _run(_daemon(runtime, file_config, max_cycles, interval, web_options(runtime, serve)))


def _run_settings(config: Path | None, venue_url: str | None) -> RuntimeSettings:
    return _runtime(config, venue_url=venue_url)


async def _daemon(
    runtime: RuntimeSettings,
    file_config: Any,
    max_cycles: int | None,
    interval: float | None,
    web: Any = None,
) -> None:
    from bot.app import build_app
    from bot.cli_paper import paper_state_file
    from bot.runner import Shutdown
    from bot.store.lock import instance_lock
    from bot.store.revision import probe

    serving: Any = contextlib.nullcontext()  # FastAPI and uvicorn load only with --serve
    if web is not None:
        from bot.web.server import beside_daemon

        serving = beside_daemon(web, runtime.database_url)
    log = get_logger("bot.cli")
    with Shutdown() as shutdown:  # SIGTERM during start-up exits 0 too
        async with instance_lock(runtime.database_url) as lock:
            await probe(runtime.database_url, must_exist=False)  # corrupt or unreachable: one line
            async with serving, _sim_clock(runtime) as clock:
                embedded = runtime.mode == "paper" and runtime.venue_url is None
                state = paper_state_file(runtime.database_url) if embedded else None
                app = await shutdown.start(
                    build_app(runtime, file_config, paper_state=state, clock=clock)
                )
                if app is not None:
                    if clock is not None:
                        await clock.ready()
                    await _serve(
                        app, runtime, file_config, max_cycles, interval, log, shutdown.stop, lock
                    )


@contextlib.asynccontextmanager
async def _sim_clock(runtime: RuntimeSettings) -> AsyncIterator[Any]:
    """On an external simulator the bot's clock is the simulator's (see bot.venue_clock)."""
    if runtime.mode != "paper" or runtime.venue_url is None:
        yield None
        return
    from bot.venue_clock import VenueTimeClock

    clock = VenueTimeClock(runtime.venue_url)
    await clock.start()
    try:
        yield clock
    finally:
        await clock.close()


async def _serve(
    app: Any,
    runtime: RuntimeSettings,
    file_config: Any,
    max_cycles: int | None,
    interval: float | None,
    log: Any,
    stop: Any = None,
    lock: Any = None,
) -> None:
    from bot.notify.service import alerts_running
    from bot.runner import ConfigWatcher, run_loop
    from bot.stream.mode import stream_trigger

    every = interval or file_config.bot.interval
    try:
        log.info(
            "hedgebot started",
            mode=runtime.mode,
            venue=runtime.venue,
            hedges=[h.name for h in file_config.hedges if h.enabled],
            database=REDACTOR.scrub(runtime.database_url),
        )
        set_clock(app.engine.clock)  # logs and database: one time base (the venue's in paper)
        state, why = await app.store.trading_state()
        if state.value != "active":
            from bot.why import loud

            loud(state.value, f"starting while {state.value}: {why}")
        bot = file_config.bot
        async with (
            alerts_running(app, every),
            stream_trigger(
                app.connection, bot.mode, bot.stream_ping_seconds, bot.confirm_seconds
            ) as trigger,
        ):
            await run_loop(
                app.engine,
                interval=every,
                max_cycles=max_cycles,
                watcher=ConfigWatcher(runtime.config),
                heartbeat=runtime.heartbeat_file,
                stop=stop,
                trigger=trigger,
                lock=lock,
            )
    finally:
        set_clock(wall_time)
        await app.close()


@main.command("check-config")
@config_option
@click.option(
    "--online",
    is_flag=True,
    help="Also load the venue's markets and check that every symbol exists.",
)
@handles_errors
def check_config(config: Path | None, online: bool) -> None:
    """Validate settings, the TOML file and the paths used, reporting every problem at once."""
    from bot.cli_check import offline_problems, online_problems

    runtime, cfg, problems = offline_problems({"config": config} if config else {}, config)
    if runtime is not None:
        _runtime(config)  # logging with the configured level and secrets registered
    if not problems and online and runtime is not None and cfg is not None:
        problems = _run(online_problems(runtime, cfg))
    if problems or runtime is None or cfg is None:
        raise ConfigError(problems)
    enabled = [h.name for h in cfg.hedges if h.enabled]
    click.echo(
        f"configuration OK: mode={runtime.mode} venue={runtime.venue} "
        f"hedges={len(cfg.hedges)} enabled={','.join(enabled) or '-'}"
        + (" (every symbol found on the venue)" if online else "")
    )
    from bot.settings import config_warnings

    for line in config_warnings(cfg):
        click.echo(f"warning: {line}")


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Apply all Alembic migrations to the configured database (refused while a daemon runs)."""
    from bot.store.lock import instance_lock
    from bot.store.migrate import probe, schema_status, upgrade

    runtime = _runtime(None)

    async def go() -> tuple[str | None, str]:
        async with instance_lock(runtime.database_url):  # never change a live daemon's schema
            await probe(runtime.database_url, must_exist=False)
            await upgrade(runtime.database_url)
            return await schema_status(runtime.database_url)

    current, head = _run(go())
    click.echo(f"database at revision {current} (head {head})")


def _with_store(fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn`` on the configured database, which must already exist: review and operator
    commands never create one (a mistyped path would otherwise look like an empty account)."""
    from bot.store.repo import Store
    from bot.store.revision import head_revision, probe

    runtime = _runtime(None)

    async def go() -> T:
        current = await probe(runtime.database_url, must_exist=True)
        if current != head_revision():
            raise DatabaseUnavailable(
                f"schema at revision {current}, this version needs {head_revision()}: "
                "run `hedgebot db upgrade`"
            )
        store = Store.from_url(runtime.database_url)
        try:
            return await fn(store)
        finally:
            await store.close()

    return _run(go())


@main.command()
@format_option
@handles_errors
def status(fmt: str) -> None:
    """Trading state, last cycle, hedges (current vs target) and recent orders."""
    from bot.review.status_lite import status_lite

    # a SQLite file at head is read without SQLAlchemy (fast); anything else by the Store
    sections = status_lite(_runtime(None).database_url)
    if sections is None:
        from bot.review.queries import status_rows

        sections = _with_store(status_rows)
    if fmt == "json":
        click.echo(
            json.dumps({k: json.loads(render(v, "json")) for k, v in sections.items()}, indent=2)
        )
        return
    for name, rows in sections.items():
        click.echo(f"== {name.replace('_', ' ')}")
        click.echo(render(rows, fmt))
        click.echo("")


@main.command()
@click.option("--reason", default="operator resume")
@click.option("--hedge", "hedges", multiple=True, help="Re-hedge this flattened hedge only.")
@handles_errors
def resume(reason: str, hedges: tuple[str, ...]) -> None:
    """Clear a HALTED (or REDUCING) trading state, or with --hedge a flattened hedge."""
    from bot import control
    from bot.cli_flatten import resume_hedges
    from bot.flatten import flattened

    if hedges:
        resume_hedges(hedges)
        return
    _with_store(lambda store: control.resume(store, reason))
    click.echo("trading state: active")
    still = _with_store(flattened)
    if still:
        click.echo(f"still flattened: {', '.join(sorted(still))} (`hedgebot resume --hedge NAME`)")


@main.command()
@click.option("--reason", default="operator halt")
@handles_errors
def halt(reason: str) -> None:
    """Stop all trading until `hedgebot resume` (survives restarts)."""
    from bot import control

    _with_store(lambda store: control.halt(store, reason))
    click.echo(f"trading state: halted ({reason})")


@main.command()
@click.option("--max-age", type=float, default=120.0, show_default=True, help="Seconds.")
@click.option(
    "--max-failing",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds of skipped or failed cycles (venue reads failing) tolerated.",
)
@handles_errors
def health(max_age: float, max_failing: float) -> None:
    """Exit 0 when the daemon cycles (fresh heartbeat), trading is not halted and its cycles
    have not been failing for longer than --max-failing; otherwise exit 1 saying why."""
    from bot.health import heartbeat_age, judge

    runtime = _runtime(None)
    age = heartbeat_age(runtime.heartbeat_file)
    verdict = _with_store(lambda store: judge(store, age, max_age, max_failing))
    if not verdict.ok:
        click.echo(f"unhealthy: {verdict.why}", err=True)
        sys.exit(1)
    click.echo(f"healthy: {verdict.why}")


@main.command("strategies")
@format_option
def strategies_cmd(fmt: str) -> None:
    """List registered strategies (built-in and plugins) with their parameters and defaults."""
    from strategies import describe_all, plugin_errors

    described = describe_all()
    if fmt != "table":
        rows = [
            {
                "strategy": d["name"],
                "param": p["name"],
                "default": p["default"],
                "type": p["type"],
                "constraints": p["constraints"],
                "description": p["description"],
            }
            for d in described
            for p in d["params"]
        ]
        click.echo(render(rows, fmt))
        return
    for d in described:
        origin = "built-in" if d["builtin"] else f"plugin {d['source']}"
        click.echo(f"{d['name']} ({origin}): {d['summary']}")
        rows = [
            {
                "param": p["name"],
                "default": "(required)" if p["required"] else p["default"],
                "type": p["type"],
                "constraints": p["constraints"],
                "description": p["description"],
            }
            for p in d["params"]
        ]
        click.echo("  " + render(rows, "table").replace("\n", "\n  ") + "\n")
    for name, why in plugin_errors().items():
        click.echo(f"{name}: NOT LOADED: {why}", err=True)


from bot.cli_flatten import flatten  # noqa: E402
from bot.cli_list import register as register_listings  # noqa: E402
from bot.cli_paper import paper  # noqa: E402
from bot.cli_review import register as register_review  # noqa: E402
from bot.cli_sim import guard as guard_sim  # noqa: E402
from bot.sim_cli import sim  # noqa: E402 - registers `hedgebot sim`

main.add_command(guard_sim(sim))
main.add_command(serve_command)
register_listings(main)
main.add_command(flatten)
main.add_command(paper)
register_review(main)

if __name__ == "__main__":
    main()
