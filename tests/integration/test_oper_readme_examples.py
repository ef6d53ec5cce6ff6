"""Every example configuration in the README passes `check-config --online` against the embedded
paper venue and runs a few paper cycles there (through ccxt over HTTP, as `hedgebot run` does)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import build_app
from bot.cli_check import online_problems
from bot.settings import RuntimeSettings, parse_config

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = [
    b for b in re.findall(r"```toml\n(.*?)```", README.read_text(), re.S) if "[[hedges]]" in b
]


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 7  # the full configuration and one per strategy


@pytest.mark.parametrize(
    "block", BLOCKS, ids=[re.findall(r'name = "([^"]+)"', b)[0] for b in BLOCKS]
)
async def test_readme_example_runs_in_paper_mode(block: str, tmp_path: Path) -> None:
    config = parse_config(block, "README example")
    runtime = RuntimeSettings(
        mode="paper", database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", heartbeat_file=None
    )
    assert await online_problems(runtime, config) == []
    app = await build_app(runtime, config)
    try:
        outcomes = [await app.engine.run_cycle() for _ in range(3)]
    finally:
        await app.close()
    assert all(o.outcome == "ok" for o in outcomes), [(o.outcome, o.summary) for o in outcomes]
