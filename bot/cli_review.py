"""`hedgebot report` (and, registered here too, `backtest`): the review commands.

Registered from ``bot.cli`` with ``register(main)``; ``bot.cli`` is imported only inside the
commands, so importing this module first creates no cycle.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from bot.review.listing import parse_when


def _when(_ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


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
def report(
    since: datetime | None, until: datetime | None, hedge: str | None, out: Path | None, fmt: str
) -> None:
    """PnL attribution, hedge effectiveness, drawdowns and costs, from the database alone."""
    from bot.cli import _with_store, handles_errors

    handles_errors(_report)(since, until, hedge, out, fmt, _with_store)


def _report(
    since: datetime | None,
    until: datetime | None,
    hedge: str | None,
    out: Path | None,
    fmt: str,
    with_store: Any,
) -> None:
    from bot.review import report as rep
    from bot.review.render import render

    att = with_store(lambda store: rep.load(store, since=since, until=until, hedge=hedge))
    if att is None:
        click.echo(EMPTY)
        return
    data = rep.build(att)
    if out is not None:
        from bot.review.report_out import write

        write(att, data, out)
    if fmt == "json":
        click.echo(json.dumps(rep.to_json(data), indent=2))
        return
    period = data["period"]
    click.echo(f"period {period['from']:%Y-%m-%d %H:%M} .. {period['to']:%Y-%m-%d %H:%M} UTC")
    click.echo(render(rep.rows(data), "table"))
    if out is not None:
        click.echo(f"wrote {out / 'report.json'}, {out / 'report.html'} and charts")


def register(main: click.Group) -> None:
    main.add_command(report)
