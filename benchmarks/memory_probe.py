"""Memory of the engine over many steady-state in-process cycles: does anything keep growing?

Three views, because each misses something: RSS (everything, including SQLite's page cache and
the allocator's fragmentation, but no attribution), SQLite's own heap (``sqlite3_memory_used``
of the shared libsqlite3 the interpreter uses), and tracemalloc (Python objects only, attributed
to the line that allocated them). A leak grows by about the same amount in each half of a run; a
cache filling up grows in the first half and then stops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import re
import resource
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rig

HEDGES = 5
SETTLE_CYCLES = 20  # after warm-up, before measuring: caches and pools reach their size
MB = 1024 * 1024


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _sqlite_memory_used() -> Any:
    import _sqlite3

    for name in (_sqlite3.__file__, ctypes.util.find_library("sqlite3")):
        try:
            fn = ctypes.CDLL(name).sqlite3_memory_used
        except (OSError, AttributeError, TypeError):
            continue
        fn.restype = ctypes.c_int64
        return fn
    return None


SQLITE_MEMORY_USED = _sqlite_memory_used()


def sqlite_heap() -> int | None:
    return int(SQLITE_MEMORY_USED()) if SQLITE_MEMORY_USED is not None else None


def _size(value: Any) -> str:
    """Items in a container, plus the items of the containers it maps to (a cache of lists)."""
    nested = value.values() if isinstance(value, dict) else ()
    inner = sum(len(v) for v in nested if isinstance(v, list | set | dict | tuple))
    return f"{len(value)} ({inner} nested)" if inner else str(len(value))


def engine_state(r: rig.Rig) -> dict[str, str]:
    """Sizes of what the engine keeps between cycles (what a leak would grow): every container
    held by the engine, its cycle memory and its history cache, found by looking, so that this
    keeps working when those classes change."""
    e = r.engine
    out: dict[str, str] = {}
    for owner, obj in (("Engine", e), ("CycleMemory", e.memory), ("HistoryCache", e.history)):
        for name, value in sorted(vars(obj).items()):
            if isinstance(value, dict | set | list | tuple):
                out[f"{owner}.{name}"] = _size(value)
    out["SQLAlchemy pool: connections checked out"] = str(r.store._inner.engine.pool.checkedout())
    out["gc-tracked objects"] = str(len(gc.get_objects()))
    return out


@dataclass
class MemoryResult:
    cycles: int
    rss: list[int] = field(default_factory=list)  # growth at each quarter of the run
    sqlite: list[int | None] = field(default_factory=list)
    peak_growth: int = 0
    state_before: dict[str, str] = field(default_factory=dict)
    state_after: dict[str, str] = field(default_factory=dict)
    traced: list[int] = field(default_factory=list)  # net growth after each half
    db_growth: int = 0  # bytes on disk (database + WAL) over the untraced run
    top: list[tuple[str, int, int, int]] = field(default_factory=list)  # where, 1st, 2nd, count

    @property
    def rss_growth(self) -> int:
        return self.rss[-1]

    @property
    def traced_growth(self) -> int:
        return self.traced[-1]


async def measure(workdir: Path, cycles: int) -> MemoryResult:
    r = await rig.inprocess_rig(HEDGES, workdir)
    try:
        await r.warm_up(HEDGES)
        for _ in range(SETTLE_CYCLES):
            await r.timed_cycle()
        gc.collect()
        out = MemoryResult(cycles, state_before=engine_state(r))
        rss0, peak0, sql0, db0 = rss_bytes(), peak_rss_bytes(), sqlite_heap(), await r.db_bytes()
        quarter = max(1, cycles // 4)
        for i in range(cycles):
            await r.timed_cycle()
            if (i + 1) % quarter == 0 or i + 1 == cycles:
                gc.collect()
                out.rss.append(rss_bytes() - rss0)
                heap = sqlite_heap()
                out.sqlite.append(None if heap is None or sql0 is None else heap - sql0)
        out.peak_growth = peak_rss_bytes() - peak0
        out.db_growth = await r.db_bytes() - db0
        out.state_after = engine_state(r)
        await _traced_run(r, cycles, out)
        return out
    finally:
        await r.close()


async def _traced_run(r: rig.Rig, cycles: int, out: MemoryResult) -> None:
    """As many cycles again under tracemalloc (one frame per trace: the allocating line)."""
    skip = [tracemalloc.Filter(False, tracemalloc.__file__)]
    tracemalloc.start(1)
    try:
        snaps = [tracemalloc.take_snapshot().filter_traces(skip)]
        for i in range(cycles):
            await r.timed_cycle()
            if i + 1 in (cycles // 2, cycles):
                gc.collect()
                snaps.append(tracemalloc.take_snapshot().filter_traces(skip))
    finally:
        tracemalloc.stop()
    totals = [sum(s.size for s in snap.statistics("filename")) for snap in snaps]
    out.traced = [t - totals[0] for t in totals[1:]]
    first = {s.traceback: s.size_diff for s in snaps[1].compare_to(snaps[0], "lineno")}
    whole = snaps[2].compare_to(snaps[0], "lineno")
    for stat in [s for s in whole if s.size_diff > 0][:10]:
        frame = stat.traceback[0]
        grew_first = first.get(stat.traceback, 0)
        out.top.append(
            (
                f"{shorten(frame.filename)}:{frame.lineno}",
                grew_first,
                stat.size_diff - grew_first,
                stat.count_diff,
            )
        )


def shorten(path: str) -> str:
    """Paths relative to the project or to the interpreter's library directories."""
    root = str(Path(__file__).resolve().parents[1]) + "/"
    return re.sub(r"^.*/lib/python3\.\d+/(site-packages/)?", "", path.replace(root, ""))


def report(m: MemoryResult) -> str:
    def mb(values: list[int | None]) -> str:
        return ", ".join("n/a" if v is None else f"{v / MB:+.2f}" for v in values) + " MB"

    lines = [
        f"**Memory over {m.cycles} steady-state in-process cycles, {HEDGES} hedges** "
        f"(after warm-up and {SETTLE_CYCLES} settling cycles)",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| RSS growth at 1/4, 1/2, 3/4, end (after gc) | {mb(list(m.rss))} |",
        f"| of which SQLite heap (sqlite3_memory_used) | {mb(m.sqlite)} |",
        f"| peak RSS growth | {m.peak_growth / MB:+.2f} MB |",
        f"| database file (WAL checkpointed) | {m.db_growth / MB:+.2f} MB, "
        f"{m.db_growth / m.cycles / 1024:.1f} KiB per cycle |",
        f"| tracemalloc net growth, next {m.cycles} cycles: 1st half, whole | "
        f"{m.traced[0] / 1024:+.1f} KiB, {m.traced[-1] / 1024:+.1f} KiB |",
    ]
    for key, before in m.state_before.items():
        lines.append(f"| `{key}`: before -> after | {before} -> {m.state_after[key]} |")
    lines += [
        "",
        "Top tracemalloc growth by allocating line (traced run; a leak grows in both halves):",
        "",
        "| where | 1st half | 2nd half | blocks |",
        "|---|---:|---:|---:|",
    ]
    for where, first, second, count in m.top:
        lines.append(
            f"| `{where}` | {first / 1024:+.1f} KiB | {second / 1024:+.1f} KiB | {count:+d} |"
        )
    return "\n".join(lines)
