"""Paper mode survives a restart: the embedded simulator's whole venue (wallet, positions,
orders, executions, id counters, clock, price feed) is saved under the data folder and loaded at
the next start, so the bot resumes the same account instead of a fresh one.

Saved atomically (temporary file, then rename) every few seconds while the clock moves and at
shutdown. A crash may lose the last seconds: on load the id counters jump ahead, so an order or
execution id the database has already seen is never issued again. `hedgebot paper reset` deletes
the file together with the database.

The file is a pickle written by this process for this process: keep the data folder private.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import os
import pickle
import types
from pathlib import Path
from typing import Any

from bot.logging import get_logger
from bot.sim.venue import Venue

log = get_logger("bot.sim")
FORMAT = 1
ID_SAFETY_GAP = 100_000  # ids a crash could have used after the last save
SAVE_EVERY = 2.0  # seconds


def _proxy(data: dict[str, Any]) -> types.MappingProxyType[str, Any]:
    return types.MappingProxyType(data)


# VenueConfig holds read-only mappings, which pickle cannot store as they are
copyreg.pickle(types.MappingProxyType, lambda m: (_proxy, (dict(m),)))


def state_path(database_file: Path | None) -> Path:
    """Beside the SQLite database (one venue per database), else ./data."""
    if database_file is not None:
        return database_file.with_name(database_file.stem + ".paper-venue.pickle")
    return Path("data") / "paper-venue.pickle"


def load(path: Path) -> Venue | None:
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        saved = pickle.load(fh)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"{path}: not a paper venue state of this version")
    venue: Venue = saved["venue"]
    venue.ids._orders += ID_SAFETY_GAP
    venue.ids._execs += ID_SAFETY_GAP
    return venue


def save(venue: Venue, path: Path) -> None:
    script, venue.script = venue.script, None  # a running drill is not part of the account
    try:
        data = pickle.dumps({"format": FORMAT, "venue": venue}, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        venue.script = script
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Keeper:
    """Saves the venue every few seconds and once more at ``close``."""

    def __init__(self, venue: Venue, path: Path) -> None:
        self.venue, self.path = venue, path
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="paper-venue-keeper")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY)
            try:
                save(self.venue, self.path)
            except OSError as exc:
                log.warning("paper venue not saved", path=str(self.path), error=str(exc))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        save(self.venue, self.path)
