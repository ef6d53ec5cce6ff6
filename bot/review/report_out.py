"""Writes a report's files: report.json, the PNG charts and one self-contained report.html."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.review import charts, html
from bot.review.report import rows, to_json
from bot.review.report_calc import Attribution


def write(
    att: Attribution,
    report: dict[str, Any],
    out: Path,
    *,
    title: str = "hedgebot report",
    extra_tables: Sequence[tuple[str, Sequence[Mapping[str, str]]]] = (),
    extra_charts: Mapping[str, Path] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "report.json", "html": out / "report.html"}
    files["json"].write_text(json.dumps(to_json(report), indent=2) + "\n")
    pngs = {**(extra_charts or {}), **charts.write_charts(att, out)}
    tables = [*extra_tables, ("per hedge and total", rows(report))]
    files["html"].write_text(html.page(title, report["period"], tables, pngs, notes))
    return {**files, **pngs}
