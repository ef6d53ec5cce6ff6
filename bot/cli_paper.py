"""`hedgebot paper reset`: start paper trading over, the database and the embedded venue together
(see ``bot.sim.persist``)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.errors import ConfigError


def paper_state_file(database_url: str) -> Path:
    from bot.sim.persist import state_path
    from bot.store.db import parse_url, sqlite_file

    return state_path(sqlite_file(parse_url(database_url)))


@click.group()
def paper() -> None:
    """The embedded paper venue."""


@paper.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> None:
    """Delete the paper database and the embedded venue's saved account, to start over."""
    from bot.cli import _run, _runtime, handles_errors

    @handles_errors
    def go() -> None:
        from bot.store.db import parse_url, sqlite_file
        from bot.store.lock import instance_lock

        runtime = _runtime(None)
        if runtime.mode != "paper":
            raise ConfigError(
                [f"HEDGEBOT_MODE: `paper reset` is for paper mode, not {runtime.mode}"]
            )
        db = sqlite_file(parse_url(runtime.database_url))
        if db is None:
            raise ConfigError(
                [
                    "HEDGEBOT_DATABASE_URL: `paper reset` deletes a SQLite file only; drop and "
                    "create the Postgres database yourself, then delete "
                    f"{paper_state_file(runtime.database_url)}"
                ]
            )
        state = paper_state_file(runtime.database_url)
        files = [p for p in (db, *_sidecars(db), state) if p.exists()]
        if not files:
            click.echo("nothing to reset: no paper database or venue state")
            return
        if not yes:
            click.confirm(
                "Delete " + ", ".join(map(str, files)) + " and start paper trading over?",
                abort=True,
            )

        async def remove() -> None:
            async with instance_lock(runtime.database_url):  # never under a running daemon
                for path in files:
                    path.unlink(missing_ok=True)

        _run(remove())
        click.echo("paper account reset: the next `hedgebot run` starts a fresh one")

    go()


def _sidecars(db: Path) -> list[Path]:
    return [db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
