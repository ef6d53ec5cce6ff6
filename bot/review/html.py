"""One self-contained HTML page: the numbers and the charts (PNG inlined as base64)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f0f0f0; }
img { max-width: 100%; display: block; margin: 1em 0; }
.scroll { overflow-x: auto; }
"""


def _when(value: Any) -> str:
    return escape(f"{value:%Y-%m-%d %H:%M}" if hasattr(value, "strftime") else str(value))


def table(rows: Sequence[Mapping[str, str]], table_id: str) -> str:
    if not rows:
        return "<p>(none)</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(r[c]))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img class="chart" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def page(
    title: str,
    period: Mapping[str, Any],
    tables: Sequence[tuple[str, Sequence[Mapping[str, str]]]],
    charts: Mapping[str, Path],
    notes: Sequence[str] = (),
) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>From {_when(period['from'])} to {_when(period['to'])} UTC.</p>",
    ]
    parts += [f"<p>{escape(n)}</p>" for n in notes]
    for i, (caption, rows) in enumerate(tables):
        parts += [f"<h2>{escape(caption)}</h2>", table(rows, f"table-{i}")]
    for name, path in charts.items():
        parts += [f"<h2>{escape(name)}</h2>", image(path, name)]
    parts.append("</body></html>")
    return "\n".join(parts)
