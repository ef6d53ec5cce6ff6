"""`hedgebot report` (and, registered here too, `backtest`): the review commands.

Registered from ``bot.cli`` with ``register(main)``; ``bot.cli`` is imported only inside the
commands, so importing this module first creates no cycle.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click

from bot.cli_list import _when  # the listings' --since/--until parser


def _guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """``bot.cli.handles_errors`` (one line, documented exit code), looked up when the command
    runs: ``bot.cli`` imports this module at its end."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from bot.cli import handles_errors

        handles_errors(fn)(*args, **kwargs)

    return wrapper


EMPTY = (
    "no mark-to-market snapshots in the database for this period: run the bot (or a backtest) first"
)


@click.command()
@click.option("--since", callback=_when, help="From this UTC time (2024-05-01, 2h, 7d).")
@click.option("--until", callback=_when, help="Up to this UTC time (same forms).")
@click.option("--hedge", default=None, help="Only this hedge (by name).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write report.json, PNG charts and report.html into DIR.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@_guarded
def report(
    since: str | None, until: str | None, hedge: str | None, out: Path | None, fmt: str
) -> None:
    """PnL attribution, hedge effectiveness, drawdowns and costs, from the database alone."""
    from bot.cli import _with_store as with_store
    from bot.errors import ConfigError
    from bot.review import report as rep
    from bot.review.listing import bot_now, parse_when
    from bot.review.render import render

    if out is not None:
        _writable(out)

    async def load(store: Any) -> Any:
        # the callback checked the text; an age (2h, 7d) counts back from the bot's clock
        now = await bot_now(store) if since or until else None
        start, end = (parse_when(v, now) if v else None for v in (since, until))
        att = await rep.load(store, since=start, until=end, hedge=hedge)
        if att is None and hedge is not None:  # a typo must not read as an empty database
            every = await rep.load(store, since=start, until=end)
            if every is not None:
                names = ", ".join(sorted(every.hedges)) or "none"
                raise ConfigError([f"--hedge: no hedge {hedge!r} in this period (hedges: {names})"])
        return att

    att = with_store(load)
    if att is None:
        click.echo(EMPTY)
        return
    data = rep.build(att)
    short = rep.too_short(data)
    if out is not None:
        from bot.review.report_out import write

        write(att, data, out, notes=[short] if short else ())
    if fmt == "json":
        click.echo(json.dumps(rep.to_json(data), indent=2))
        return
    period = data["period"]
    click.echo(f"period {period['from']:%Y-%m-%d %H:%M} .. {period['to']:%Y-%m-%d %H:%M} UTC")
    click.echo(render(rep.rows(data), "table"))
    if short is not None:
        click.echo(short)
    if out is not None:
        click.echo(f"wrote {out / 'report.json'}, {out / 'report.html'} and charts")


def _writable(out: Path) -> None:
    """Create --out before any work, so a path that cannot be written is bad input at once."""
    from bot.errors import ConfigError

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError([f"--out: cannot create the folder {out}: {exc.strerror}"]) from None


def _day(_ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    from bot.backtest.run import parse_day

    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use a UTC date like 2022-05-01", param=param
        ) from None


@click.command()
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="History folder: <SYMBOL>_perp_1h.csv, _spot_1h, _mark_1h, _funding.",
)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="TOML file: hedges, limits and the [paper] wallet the run starts from.",
)
@click.option("--from", "start", callback=_day, help="First UTC day (default: the data's).")
@click.option(
    "--to",
    "end",
    callback=_day,
    help="End, a UTC day or time: 2020-03-25 stops at its 00:00 (default: the data's end).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write report.json, charts and report.html into DIR.",
)
@click.option(
    "--compare",
    default=None,
    help="Run several variants side by side: unhedged,direct,dynamic,funding,cross,config "
    "or .toml files.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--db", "db_url", default=None, help="Keep the run's database at this URL.")
@_guarded
def backtest(
    data_dir: Path,
    config_path: Path,
    start: datetime | None,
    end: datetime | None,
    out: Path | None,
    compare: str | None,
    fmt: str,
    db_url: str | None,
) -> None:
    """Replay history through the live engine (strategies, planner, guards, stops) and report."""
    import asyncio

    from bot.backtest import output
    from bot.backtest.compare import variants
    from bot.backtest.run import run_backtest
    from bot.logging import configure_logging
    from bot.review import report as rep
    from bot.review.render import render
    from bot.settings import load_config_file

    configure_logging(json=False, level="WARNING")  # a cycle's info lines would bury the bar
    if out is not None:
        _writable(out)  # before the run, not after it
    config = load_config_file(config_path)
    runs = variants(config, compare) if compare else [("backtest", config)]
    results = []
    with _progress() as bar:
        for name, cfg in runs:
            task = bar.add_task(name, total=None)

            def advance(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            results.append(
                asyncio.run(
                    run_backtest(
                        data_dir, cfg, start=start, end=end, name=name,
                        progress=advance,
                        db_url=db_url,
                    )
                )
            )  # fmt: skip
    for line in output.notes(results[0])[1:]:
        click.echo(line, err=True)
    if out is not None:
        if compare:
            output.write_compare(results, out)
        elif results[0].attribution is not None:
            output.write_single(results[0], out)
    if fmt == "json":
        data = {r.name: rep.to_json(r.report) for r in results}
        click.echo(json.dumps(data if compare else data["backtest"], indent=2))
        return
    click.echo(output.notes(results[0])[0])
    if compare:
        click.echo(render(output.compare_rows(results), "table"))
    elif results[0].report is not None:
        click.echo(render(rep.rows(results[0].report), "table"))
    if out is not None:
        click.echo(f"wrote {out}")


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("bars"), TimeRemainingColumn(), console=console,
        disable=not console.is_terminal,
    )  # fmt: skip


@click.group()
def history() -> None:
    """Market history files for backtests and the simulator's replay."""


@history.command("fetch")
@click.option("--exchange", default="bybit", show_default=True, help="A ccxt exchange id.")
@click.option("--symbols", required=True, help="Comma-separated, e.g. BTCUSDT,ETHUSDT.")
@click.option("--since", "start", required=True, callback=_day, help="First UTC day.")
@click.option("--until", "end", callback=_day, help="Up to this UTC day (default: now).")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path, file_okay=False), help="Folder."
)
@click.option("--url", default=None, help="Another base URL (e.g. the simulator's).")
@_guarded
def history_fetch(
    exchange: str, symbols: str, start: datetime, end: datetime | None, out: Path, url: str | None
) -> None:
    """Download hourly spot, perp and mark bars and funding into DIR (resumes existing files)."""
    import asyncio
    from datetime import UTC

    from bot.errors import ConfigError
    from bot.exchange.history_fetch import fetch_with_ccxt

    names = [s.strip().upper() for s in symbols.split(",") if s.strip()]
    until = end or datetime.now(UTC)
    if start >= until:
        raise ConfigError(["--since: must be before --until (or now)"])

    async def go() -> dict[str, int]:
        with _progress() as bar:
            return await fetch_with_ccxt(exchange, url, names, start, until, out, bar)

    written = asyncio.run(go())
    for name, n in written.items():
        click.echo(f"{out / name}: {n} new rows")


def register(main: click.Group) -> None:
    main.add_command(report)
    main.add_command(backtest)
    main.add_command(history)
