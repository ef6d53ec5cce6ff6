"""`hedgebot flatten [--hedge H] [--yes]` and `hedgebot resume --hedge H` (see ``bot.flatten``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


async def _seen(store: Any) -> set[str]:
    """The hedges this database knows: the ones the daemon's cycles named, and flattened ones.
    The CLI's own configuration may not be the daemon's (`run --config mine.toml`)."""
    from bot import flatten as flat
    from bot.web.views import hedge_names

    return await hedge_names(store) | set(await flat.flattened(store))


def _check(wanted: tuple[str, ...], known: set[str], hint: str) -> list[str]:
    """The named hedges (all known ones when none is named); one line and exit 2 otherwise."""
    from bot.cli import EXIT_CONFIG, _fail

    unknown = sorted(set(wanted) - known)
    if unknown or not (wanted or known):
        seen = f"known: {', '.join(sorted(known))}" if known else "the daemon has run no cycle yet"
        what = f"--hedge: no hedge named {', '.join(unknown)}" if unknown else "no hedge to flatten"
        _fail(f"{what} on this database ({seen}){hint}", EXIT_CONFIG)
    return sorted(set(wanted) or known)


def _known(config: Path | None) -> set[str]:
    from bot.cli import _runtime, _with_store
    from bot.settings import load_config_file

    known = _with_store(_seen)
    if config is not None:  # the daemon's TOML named explicitly: e.g. before its first cycle
        known |= {h.name for h in load_config_file(_runtime(config).config).hedges}
    return known


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
    (persisted) until `hedgebot resume --hedge NAME`; also while trading is halted. The hedges
    are the ones the daemon's database knows. Stopping the daemon instead keeps hedges and
    stops in place."""
    from bot.cli import _run, _with_store, handles_errors

    @handles_errors
    def go() -> None:
        hint = "" if config else "; before its first cycle pass the daemon's --config"
        names = _check(hedges, _known(config), hint)
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
        running = _run(_daemon_running(url))
        if state.value == "halted":
            click.echo(
                f"note: trading is halted ({why}): only these reduce-only closes go out, "
                "nothing else until `hedgebot resume`"
            )
        if not running:
            click.echo("note: no daemon runs on this database: the shorts close when it starts")
        else:
            click.echo("the daemon closes them at its next cycle: see `hedgebot orders`")

    go()


def resume_hedges(hedges: tuple[str, ...]) -> None:
    from bot import flatten as flat
    from bot.cli import _with_store

    names = _check(hedges, _with_store(_seen), "")
    now = _with_store(lambda store: flat.unflatten(store, names))
    click.echo(f"hedging again: {', '.join(names)}")
    if now:
        click.echo(f"still flattened: {', '.join(sorted(now))}")
