"""`hedgebot events|orders|fills|funding|rejections`: filtered listings of what the bot recorded.

Read-only: the database must exist (see ``bot.cli._with_store``). Newest first; amounts print
exactly as stored (Decimal text, never a float), times in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from bot.review.render import FORMATS, render

HELP = {
    "events": "Events (halts, reloads, skipped data, risk notes), newest first.",
    "orders": "Order intents with their status and the venue's reason, newest first.",
    "fills": "Fills recorded from the venue, newest first (`trades` is an alias).",
    "funding": "Funding payments (positive: received), newest first.",
    "rejections": "Orders refused by a risk guard or by the venue, with the reason, newest first.",
}


def _when(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a malformed time at once; ages are resolved later against the bot's clock."""
    if value is not None:
        from bot.review.listing import parse_when  # SQLAlchemy: loaded when a listing runs

        try:
            parse_when(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param=param) from None
    return value


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--since",
            callback=_when,
            help="From this UTC time (2024-05-01) or age (2h, 7d: before the newest cycle).",
        ),
        click.option("--until", callback=_when, help="Before this UTC time (same forms)."),
        click.option("--symbol", default=None, help="Only this symbol, e.g. BTC/USDT:USDT."),
        click.option("--hedge", default=None, help="Only this hedge (by name)."),
        click.option(
            "--limit",
            type=click.IntRange(min=0),
            default=50,
            show_default=True,
            help="At most N rows (0: all).",
        ),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def make_command(name: str) -> click.Command:
    from bot.cli import _with_store, handles_errors

    @_options
    @handles_errors
    def command(
        since: str | None,
        until: str | None,
        symbol: str | None,
        hedge: str | None,
        limit: int,
        fmt: str,
    ) -> None:
        from bot.review.listing import Filters, bot_now, listing, parse_when

        async def rows_of(store: Any) -> list[dict[str, Any]]:
            now = await bot_now(store)
            f = Filters(
                parse_when(since, now) if since else None,
                parse_when(until, now) if until else None,
                symbol,
                hedge,
                limit or None,
            )
            return await listing(store, name, f)

        rows = _with_store(rows_of)
        click.echo(render(rows, fmt))

    return click.command(name, help=HELP[name])(command)


def register(group: click.Group) -> None:
    for name in HELP:
        group.add_command(make_command(name))
    group.add_command(make_command("fills"), "trades")
