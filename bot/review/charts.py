"""The report's PNG charts, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.review.report_calc import Attribution, HedgeSeries

CHARTS = ("value", "ratio", "costs", "drawdown")
HEDGED, UNHEDGED = "#1f77b4", "#d62728"
HOUR = timedelta(hours=1)


def _values(series: HedgeSeries, cum: Sequence[Decimal]) -> list[float]:
    start = series.spot_value[0]
    return [float(start + v) for v in cum]


def _x(times: Sequence[datetime]) -> Any:
    return mdates.date2num(list(times))


def drawdowns(values: Sequence[float]) -> list[float]:
    peak, out = float("-inf"), []
    for v in values:
        peak = max(peak, v)
        out.append((v - peak) / peak if peak > 0 else 0.0)
    return out


def _dot(times: Sequence[datetime]) -> str | None:
    return "o" if len(times) == 1 else None  # a line through one point draws nothing


def _time_axis(ax: Axes, times: Sequence[datetime]) -> None:
    if len(set(times)) < 2:  # one mark: show its hour (matplotlib would pick years, and warn)
        t = times[0] if times else datetime(1970, 1, 1)
        ax.set_xlim(mdates.date2num(t - HOUR), mdates.date2num(t + HOUR))
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(alpha=0.3)


def _panels(att: Attribution) -> list[tuple[str, HedgeSeries]]:
    return [("total", att.total), *sorted(att.hedges.items())]


def _figure(rows: int) -> tuple[Figure, list[Axes]]:
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.6 * rows + 0.6), squeeze=False)
    return fig, [a for row in axes for a in row]


def value_chart(att: Attribution) -> Figure:
    panels = _panels(att)
    fig, axes = _figure(len(panels))
    for ax, (name, s) in zip(axes, panels, strict=True):
        dot = _dot(s.times)
        ax.plot(_x(s.times), _values(s, s.cum_spot), color=UNHEDGED, label="unhedged (spot only)",
                marker=dot)  # fmt: skip
        ax.plot(_x(s.times), _values(s, s.cum_net), color=HEDGED, label="hedged (net of costs)",
                marker=dot)  # fmt: skip
        ax.set_title(f"{name}: value", loc="left", fontsize=10)
        ax.set_ylabel("quote")
        _time_axis(ax, s.times)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def ratio_chart(att: Attribution) -> Figure:
    hedges = sorted(att.hedges.items())
    fig, axes = _figure(max(1, len(hedges)))
    for ax, (name, s) in zip(axes, hedges, strict=False):
        # a ratio holds until the next mark: steps, not slopes
        ax.step(_x(s.times), _nan(s.ratio), where="post", color=HEDGED, label="hedge ratio")
        ax.step(
            _x(s.times), _nan(s.target_ratio), where="post", color="black", ls="--", lw=1,
            label="target",
        )  # fmt: skip
        ax.set_title(f"{name}: hedge ratio (perp value / spot value)", loc="left", fontsize=10)
        _time_axis(ax, s.times)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def _nan(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else v for v in values]


def costs_chart(att: Attribution) -> Figure:
    fig, axes = _figure(1)
    ax = axes[0]
    s = att.total
    ax.plot(_x(s.times), [float(v) for v in s.cum_funding], color="#2ca02c", label="funding (net)")
    ax.plot(_x(s.times), [-float(v) for v in s.cum_fees], color="#ff7f0e", label="fees (paid)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_title("total: cumulative funding and fees", loc="left", fontsize=10)
    ax.set_ylabel("quote")
    _time_axis(ax, s.times)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def drawdown_chart(att: Attribution) -> Figure:
    panels = _panels(att)
    fig, axes = _figure(len(panels))
    for ax, (name, s) in zip(axes, panels, strict=True):
        for cum, color, label in (
            (s.cum_spot, UNHEDGED, "unhedged"),
            (s.cum_net, HEDGED, "hedged"),
        ):
            dd = [100 * d for d in drawdowns(_values(s, cum))]
            ax.fill_between(_x(s.times), dd, 0, color=color, alpha=0.3, label=label)
        ax.set_title(f"{name}: drawdown", loc="left", fontsize=10)
        ax.set_ylabel("% from peak")
        _time_axis(ax, s.times)
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def compare_chart(runs: Sequence[tuple[str, Sequence[datetime], Sequence[float]]]) -> Figure:
    """One line per compared configuration: the account's hedged value over time."""
    fig, axes = _figure(1)
    ax = axes[0]
    for name, times, values in runs:
        ax.plot(_x(times), values, label=name)
    ax.set_title("value of the hedged holdings, net of costs", loc="left", fontsize=10)
    ax.set_ylabel("quote")
    _time_axis(ax, [t for _, times, _ in runs for t in times])
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


BUILDERS = {
    "value": value_chart,
    "ratio": ratio_chart,
    "costs": costs_chart,
    "drawdown": drawdown_chart,
}


def save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_charts(att: Attribution, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    return {name: save(build(att), out / f"{name}.png") for name, build in BUILDERS.items()}
