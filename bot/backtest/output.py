"""Backtest results on screen and on disk: the same report files as `hedgebot report`, and for
--compare one table and one chart side by side."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.backtest.run import BacktestResult
from bot.review import charts, html
from bot.review.report import cell, rows, to_json
from bot.review.report_out import write

COMPARE = (
    ("net_pnl", "net"),
    ("spot_pnl", "spot"),
    ("perp_pnl", "perp"),
    ("funding", "funding"),
    ("fees", "fees"),
    ("effectiveness", "effect."),
    ("max_drawdown_hedged", "mdd hedged"),
    ("max_drawdown_unhedged", "mdd unhedged"),
    ("avg_ratio", "avg ratio"),
    ("hedge_cost_per_year", "cost/yr"),
    ("stop_fills", "stops"),
)


def notes(result: BacktestResult) -> list[str]:
    lines = [
        f"{result.name}: {result.cycles} hourly bars x {len(result.bases)} assets "
        f"({', '.join(result.bases)}), {result.start:%Y-%m-%d %H:%M} to "
        f"{result.end:%Y-%m-%d %H:%M} UTC; liquidations: {result.liquidations}"
    ]
    lines += [f"data gap: {line}" for line in result.gaps.lines()]
    return lines


def compare_rows(results: Sequence[BacktestResult]) -> list[dict[str, str]]:
    out = []
    for r in results:
        total = (r.report or {}).get("total", {})
        out.append({"run": r.name, **{label: cell(total.get(k), k) for k, label in COMPARE}})
    return out


def write_single(result: BacktestResult, out: Path) -> None:
    assert result.attribution is not None and result.report is not None
    write(result.attribution, result.report, out, title=f"hedgebot backtest: {result.name}",
          notes=notes(result))  # fmt: skip


def write_compare(results: Sequence[BacktestResult], out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    for r in results:
        if r.attribution is not None:
            write_single(r, out / r.name)
    runs = [
        (r.name, r.attribution.total.times,
         [float(r.attribution.total.spot_value[0] + v) for v in r.attribution.total.cum_net])
        for r in results
        if r.attribution is not None
    ]  # fmt: skip
    chart = charts.save(charts.compare_chart(runs), out / "compare.png")
    data = {r.name: to_json(r.report) for r in results}
    (out / "compare.json").write_text(json.dumps(data, indent=2) + "\n")
    first = next(r for r in results if r.report is not None)
    page = html.page(
        "hedgebot backtest: comparison",
        first.report["period"],  # type: ignore[index]
        [("side by side (total)", compare_rows(results)),
         *((f"{r.name}: per hedge", rows(r.report)) for r in results if r.report)],
        {"compare": chart},
        notes(first),
    )  # fmt: skip
    (out / "report.html").write_text(page)
    return data
