"""`hedgebot flatten [--hedge H] [--yes]` and `hedgebot resume --hedge H` (see ``bot.flatten``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot.errors import ConfigError


def _hedge_names(config: Path | None) -> list[str]:
    from bot.cli import _runtime
    from bot.settings import load_config_file

    runtime = _runtime(config)
    return [h.name for h in load_config_file(runtime.config).hedges]


async def _daemon_running(url: str) -> bool:
    from bot.store.lock import AlreadyRunning, instance_lock

    try:
        async with instance_lock(url):
            return False
    except AlreadyRunning:
        return True


@click.command()
@click.option("--config", type=click.Path(path_type=Path), default=None, help="The daemon's TOML.")
@click.option("--hedge", "hedges", multiple=True, help="Only this hedge (repeatable); default all.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--reason", default="operator flatten")
def flatten(config: Path | None, hedges: tuple[str, ...], yes: bool, reason: str) -> None:
    """Close hedges' shorts with reduce-only orders, cancel their stops, and keep them flat
    (persisted) until `hedgebot resume --hedge NAME`. Stopping the daemon instead keeps hedges
    and stops in place."""
    from bot.cli import _run, _with_store, handles_errors

    @handles_errors
    def go() -> None:
        known = _hedge_names(config)
        unknown = sorted(set(hedges) - set(known))
        if unknown:
            raise ConfigError(
                [f"--hedge: no hedge named {', '.join(unknown)} (configured: {', '.join(known)})"]
            )
        names = list(hedges) or known
        if not yes:
            click.confirm(
                f"Close the shorts of {', '.join(names)} and keep them flat until resumed?",
                abort=True,
            )
        from bot import flatten as flat
        from bot.cli import _runtime

        async def act(store: Any) -> tuple[frozenset[str], Any]:
            return await flat.flatten(store, names, reason), await store.trading_state()

        now, (state, why) = _with_store(act)
        click.echo(f"flattened: {', '.join(sorted(now))}")
        url = _runtime(config).database_url
        if state.value == "halted":
            click.echo(
                f"note: trading is halted ({why}): no order goes out, these shorts included, "
                "until `hedgebot resume`; the hedges stay flat after it"
            )
        elif not _run(_daemon_running(url)):
            click.echo("note: no daemon runs on this database: the shorts close when it starts")
        else:
            click.echo("the daemon closes them at its next cycle: see `hedgebot orders`")

    go()


def resume_hedges(hedges: tuple[str, ...]) -> None:
    from bot import flatten as flat
    from bot.cli import _with_store

    now = _with_store(lambda store: flat.unflatten(store, hedges))
    click.echo(f"hedging again: {', '.join(hedges)}")
    if now:
        click.echo(f"still flattened: {', '.join(sorted(now))}")
