"""The HTML report opened in headless Chromium (issue 9.9): every chart decodes and draws at
its size, and the tables lay out with their rows. `.ci/run` installs Debian's chromium."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from html import unescape
from pathlib import Path

from bot.review.report import build, load
from bot.review.report_out import write
from tests.browser import chromium_binary, needs_chromium
from tests.integration.review_scenario import scripted_run

CHROMIUM = chromium_binary()
PROBE = """<script>window.addEventListener("load", () => document.body.setAttribute("data-check",
JSON.stringify({images: [...document.images].map(i => [i.complete, i.naturalWidth,
i.getBoundingClientRect().height]), tables: [...document.querySelectorAll("table")].map(t =>
[t.rows.length, t.rows[0].cells.length, t.getBoundingClientRect().height])})));</script>"""


async def _report(tmp_path: Path) -> Path:
    paper = await scripted_run(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    try:
        att = await load(paper.store)
    finally:
        await paper.close()
    assert att is not None
    return write(att, build(att), tmp_path / "out")["html"]


@needs_chromium
def test_charts_and_tables_render_in_headless_chromium(tmp_path: Path) -> None:
    page = asyncio.run(_report(tmp_path))
    probed = tmp_path / "probe.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    found = re.search(r'data-check="([^"]*)"', dom)
    assert found, dom[:500]
    check = json.loads(unescape(found.group(1)))
    assert len(check["images"]) == 4
    for complete, width, height in check["images"]:
        assert complete and width >= 800 and height > 100  # decoded and laid out, not broken
    ((rows, cols, height),) = check["tables"]
    assert rows == 4 and cols == 16 and height > 50  # header, btc, eth, TOTAL
