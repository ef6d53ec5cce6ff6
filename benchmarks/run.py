"""Every benchmark in one command (issue 10.7); writes benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py            # the full set (long: 200 hedges, 10,000 cycles)
    .venv/bin/python benchmarks/run.py --quick    # a smaller set, under a minute
    .venv/bin/python benchmarks/run.py --out FILE # somewhere else than RESULTS.md
    .venv/bin/python benchmarks/run.py --sections memory,startup --out FILE   # some sections

Sections: steady and rebalancing cycles over HTTP (the bot, ccxt's own limiter, a naive loop;
0 and 50 ms latency; cycles.py), requests per cycle, own CPU per steady cycle with a profile, RSS
after 100 and 10,000 cycles, database growth per cycle, start-up times, backtest throughput
(bench_backtest.py). The load average is written beside each figure: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # this checkout's code, not an installed one

import cycles  # noqa: E402
import own_cpu  # noqa: E402
import rig  # noqa: E402
from machine import machine  # noqa: E402


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


async def cycle_section(quick: bool, samples: int, compare_up_to: int, work: Path) -> str:
    sizes = (10,) if quick else (1, 10, 50, 200)
    rows = []
    for n in sizes:
        for latency in (0, 50):
            for mode in cycles.MODES:
                if quick and mode != "bot" and latency == 0:
                    continue  # the comparisons at 50 ms only
                if mode != "bot" and n > compare_up_to:
                    continue
                row = await cycles.measure(n, mode, latency, samples, work)
                row["load"] = load()
                rows.append(row)
                print(f"  cycles n={n} {mode} {latency} ms: {row}", file=sys.stderr)
    return (
        "## Cycles over HTTP\n\nMedian wall time of a steady cycle (nothing to send) and of a "
        "rebalancing cycle (every holding moved: every hedge trades and its stop moves), "
        "through ccxt against the simulator with Bybit's request windows enforced, the simulator "
        "in a process of its own (as an exchange is: its work is not the bot's). Ratios: "
        "the other's time / the bot's. Requests: HTTP requests of the cycle (venue_requests).\n\n"
        + cycles.table(rows)
    )


async def cpu_section(quick: bool, samples: int, work: Path) -> str:
    """Own CPU per steady in-process cycle (benchmarks/own_cpu.py says what is counted)."""
    return await own_cpu.section(own_cpu.HEDGES, samples, work, profile_n=0 if quick else 200)


async def memory_section(long: int, work: Path) -> str:
    r = await rig.inprocess_rig(10, work)
    try:
        await r.warm_up(10)
        base_db = await r.db_bytes()
        rows = []
        done = 0
        for target in (100, long):
            while done < target:
                await r.cycle()
                done += 1
            rows.append((target, rss_mb(), await r.db_bytes(), load()))
    finally:
        await r.close()
    out = ["| cycles | RSS MB | database bytes | load |", "|---|---|---|---|"]
    out += [f"| {c} | {m:.1f} | {b} | {ld} |" for c, m, b, ld in rows]
    growth = (rows[-1][2] - base_db) / long
    rss = (rows[-1][1] / rows[0][1] - 1) * 100
    return (
        "## Memory and database (10 hedges, in-process)\n\n"
        + "\n".join(out)
        + f"\n\nRSS growth from 100 to {long} cycles: {rss:+.1f} % (goal under 10 %); "
        f"database growth {growth:.0f} bytes per cycle."
    )


STARTUP_RUNS = 5
STARTUP_COMMANDS = (["--help"], ["run", "--max-cycles", "1"], ["status"])  # status: of that run


def startup_section(runs: int = STARTUP_RUNS) -> str:
    """Each command as a user runs it, in a fresh empty folder each round (README command 1:
    `hedgebot run` from an empty folder creates the database and the paper account); the median
    of ``runs`` rounds, wall and CPU (user+sys of the child). Bytecode is cached, as after `pip
    install` (which compiles) or any first start: into a temporary PYTHONPYCACHEPREFIX, written by
    a warm-up round not counted. A PYTHONDONTWRITEBYTECODE environment would otherwise compile
    hedgebot's ~120 modules at every start (~0.15 s a command, no user pays it)."""
    cache = tempfile.TemporaryDirectory()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": cache.name}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    taken: dict[str, list[tuple[float, float]]] = {}
    for round_no in range(runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            for args in STARTUP_COMMANDS:
                before, began = os.times(), time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp, env=env,
                                      capture_output=True, text=True)  # fmt: skip
                wall, after = time.perf_counter() - began, os.times()
                if done.returncode != 0:
                    raise RuntimeError(f"hedgebot {' '.join(args)}: {done.stderr[-400:]}")
                cpu = (after.children_user - before.children_user) + (
                    after.children_system - before.children_system
                )
                if round_no:  # round 0 wrote the bytecode caches
                    taken.setdefault(" ".join(args), []).append((wall, cpu))
    cache.cleanup()
    rows = ["| command | wall s (median) | user+sys CPU s (median) | load |", "|---|---|---|---|"]
    for name, values in taken.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        rows.append(f"| hedgebot {name} | {wall:.2f} | {cpu:.2f} | {load()} |")
    return (
        "## Start-up (paper mode, embedded venue)\n\nGoals: `run --max-cycles 1` under 2 s, "
        "`--help` and `status` under 0.5 s (wall, on an idle machine; CPU shown because this "
        f"one is shared). Median of {runs} rounds, each in a fresh empty folder: `run` creates "
        "the database and the paper account there, `status` reads them; bytecode cached, as "
        "after `pip install`.\n\n" + "\n".join(rows)
    )


def backtest_section(quick: bool) -> str:
    args = ["--hedges", "2", "--hours", "48"] if quick else ["--hedges", "10", "--hours", "240"]
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_backtest.py"), *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    table = [line for line in out.stdout.splitlines() if line.startswith("|")]
    return f"## Backtest throughput (bench_backtest.py, load {load()})\n\n" + "\n".join(table)


SECTIONS = ("cycles", "cpu", "memory", "startup", "backtest")


async def main(args: argparse.Namespace) -> str:
    rig.quiet_logging()
    began = time.perf_counter()
    wanted = args.sections.split(",")
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "cycles" in wanted:
            samples = args.samples or (2 if args.quick else 5)
            parts.append(await cycle_section(args.quick, samples, args.compare_up_to, work))
        if "cpu" in wanted:
            parts.append(await cpu_section(args.quick, 5 if args.quick else 50, work))
        if "memory" in wanted:
            long = args.cycles or (200 if args.quick else 10_000)
            parts.append(await memory_section(long, work))
    if "startup" in wanted:
        parts.append(startup_section())
    if "backtest" in wanted:
        parts.append(backtest_section(args.quick))
    title = "quick set (--quick)" if args.quick else "full set"
    if args.sections != ",".join(SECTIONS):
        title += f", sections {args.sections}"
    text = (
        f"# Benchmark results (benchmarks/run.py)\n\n{title}, written by `python benchmarks/run.py"
        f"{' --quick' if args.quick else ''}` in {time.perf_counter() - began:.0f} s.\n\n"
        f"Machine: {machine()}\n\n" + "\n\n".join(parts) + "\n"
    )
    return text


BEGIN, END = "<!-- benchmarks/run.py: begin -->", "<!-- benchmarks/run.py: end -->"


def place(out: Path, text: str) -> None:
    """Replace the previous run's block in ``out``, keeping what else the file records (older
    analyses, other helpers' notes); a file without the block gets it on top."""
    block = f"{BEGIN}\n{text.rstrip()}\n{END}\n"
    old = out.read_text() if out.exists() else ""
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        new = head + block + rest.split(END, 1)[1].lstrip("\n")
    else:
        new = block + ("\n" + old if old else "")
    out.write_text(new)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--compare-up-to", type=int, default=10**6, help="largest N compared")
    parser.add_argument("--samples", type=int, default=0, help="steady cycles per HTTP case")
    parser.add_argument("--cycles", type=int, default=0, help="the long memory run's cycles")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"some of {','.join(SECTIONS)}"
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    options = parser.parse_args()
    if unknown := set(options.sections.split(",")) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}: use some of {','.join(SECTIONS)}")
    written = asyncio.run(main(options))
    place(Path(options.out), written)
    print(written)
