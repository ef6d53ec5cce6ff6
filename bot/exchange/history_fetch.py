"""`hedgebot history fetch`: hourly spot, perp and mark bars and the funding history, through ccxt,
into the layout backtests and the simulator replay (``bot/sim/replay.py``).

Paginated (a page starts after the last row received and asks for a window of at most one
page, so a gap, e.g. before a coin's listing, is skipped instead of ending the fetch), resumable
(an existing file is continued after its last row, never rewritten), and only complete bars are
written (a bar whose hour has not ended yet would change). Public market data: no keys are needed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sim.replay import base_of

HOUR_MS = 3_600_000
PAGE = 1000  # Bybit's kline limit
FUNDING_PAGE = 200  # Bybit's funding history limit
Progress = Callable[[str, int], None]
HEADERS = {
    "perp_1h": ["timestamp", "open", "high", "low", "close", "volume"],
    "spot_1h": ["timestamp", "open", "high", "low", "close", "volume"],
    "mark_1h": ["timestamp", "mark_close"],
    "funding": ["timestamp", "funding_rate"],
}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _num(value: Any) -> str:
    """ccxt hands numbers over as floats; their shortest repr is the exchange's decimal text."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def last_stamp(path: Path) -> int | None:
    if not path.exists():
        return None
    last = None
    with path.open(newline="") as fh:
        for row in csv.reader(fh):
            if row and row[0] != "timestamp":
                last = row[0]
    return _ms(last) if last else None


@dataclass(frozen=True)
class Job:
    """One file: which call fills it, from when."""

    kind: str
    symbol: str  # unified ccxt symbol
    path: Path


def jobs(symbols: Sequence[str], out: Path, quote: str = "USDT") -> list[Job]:
    out_jobs = []
    for venue_symbol in symbols:
        base = base_of(venue_symbol)
        spot, perp = f"{base}/{quote}", f"{base}/{quote}:{quote}"
        for kind, symbol in (("perp_1h", perp), ("spot_1h", spot), ("mark_1h", perp)):
            out_jobs.append(Job(kind, symbol, out / f"{venue_symbol}_{kind}.csv"))
        out_jobs.append(Job("funding", perp, out / f"{venue_symbol}_funding.csv"))
    return out_jobs


def window_ms(client: Any, job: Job) -> int:
    """How far one page reaches after its start: a page asks for exactly that window, so an empty
    one (before a listing, or a venue outage) says nothing about what follows it."""
    if job.kind != "funding":
        return PAGE * HOUR_MS
    market = (getattr(client, "markets", None) or {}).get(job.symbol) or {}
    minutes = int((market.get("info") or {}).get("fundingInterval") or 480)  # Bybit: minutes
    return FUNDING_PAGE * minutes * 60_000


async def _page(client: Any, job: Job, since: int, until: int) -> list[tuple[int, list[str]]]:
    if job.kind == "funding":
        rows = await client.fetch_funding_rate_history(
            job.symbol, since, FUNDING_PAGE, {"until": until}
        )
        return [(int(r["timestamp"]), [_num(r["fundingRate"])]) for r in rows]
    params: dict[str, Any] = {"until": until}
    if job.kind == "mark_1h":
        params["price"] = "mark"
    bars = await client.fetch_ohlcv(job.symbol, "1h", since, PAGE, params)
    if job.kind == "mark_1h":
        return [(int(b[0]), [_num(b[4])]) for b in bars]
    return [(int(b[0]), [_num(v) for v in b[1:6]]) for b in bars]


async def fetch_job(
    client: Any, job: Job, since: datetime, until: datetime, progress: Progress | None = None
) -> int:
    """Append the rows of ``job`` from its last row (or ``since``) to ``until``; returns how many
    rows were written."""
    last = last_stamp(job.path)
    start = int(since.timestamp() * 1000) if last is None else last + 1
    end = int(until.timestamp() * 1000)
    written = 0
    new = not job.path.exists()
    job.path.parent.mkdir(parents=True, exist_ok=True)
    with job.path.open("a", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        if new:
            writer.writerow(HEADERS[job.kind])
        window = window_ms(client, job)
        # a bar counts once its hour is over; a settlement once it happened
        limit = end - HOUR_MS if job.kind != "funding" else end
        while start < end:
            stop = min(start + window - 1, end)
            rows = await _page(client, job, start, stop)
            fresh = sorted((t, r) for t, r in rows if start <= t <= min(stop, limit))
            for t, r in fresh:
                writer.writerow([_iso(t), *r])
            written += len(fresh)
            if progress is not None:
                progress(job.path.name, len(fresh))
            # an empty window is a gap, not the end: go on after it
            start = fresh[-1][0] + 1 if fresh else stop + 1
        fh.flush()
    return written


async def fetch_history(
    client: Any,
    symbols: Sequence[str],
    since: datetime,
    until: datetime,
    out: Path,
    progress: Progress | None = None,
    quote: str = "USDT",
) -> dict[str, int]:
    await client.load_markets()
    done = {}
    for job in jobs(symbols, out, quote):
        done[job.path.name] = await fetch_job(client, job, since, until, progress)
    return done


def expected_rows(since: datetime, until: datetime) -> int:
    """Hourly bars in [since, until) for a progress total."""
    return max(0, int((until - since) / timedelta(hours=1)))


async def fetch_with_ccxt(
    exchange: str,
    url: str | None,
    names: Sequence[str],
    start: datetime,
    until: datetime,
    out: Path,
    progress_bar: Any,
) -> dict[str, int]:
    """Build the public ccxt client (pointed at ``url`` when given: the simulator's) and fetch;
    ccxt's errors come back as the project's (a symbol the exchange does not list is bad input)."""
    import ccxt.async_support as ccxt_async

    from bot.errors import ConfigError, HedgebotError
    from bot.exchange.factory import _point_at

    if not hasattr(ccxt_async, exchange):
        raise ConfigError([f"--exchange: ccxt has no exchange {exchange!r}"])
    client = getattr(ccxt_async, exchange)({"enableRateLimit": url is None})
    if url:
        _point_at(client, url)
    try:
        tasks = {
            j.path.name: progress_bar.add_task(j.path.name, total=None) for j in jobs(names, out)
        }
        return await fetch_history(
            client, names, start, until, out,
            progress=lambda name, n: progress_bar.advance(tasks[name], n),
        )  # fmt: skip
    except ccxt_async.BadSymbol as exc:  # a symbol the exchange does not list
        raise ConfigError([f"--symbols: {exc}"]) from None
    except ccxt_async.BaseError as exc:
        raise HedgebotError(f"{exchange}: {type(exc).__name__}: {exc}") from None
    finally:
        await client.close()
