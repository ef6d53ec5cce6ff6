"""Reviewer rev9 (issue 9): backtest defects in bot/backtest/** (owned by helper "bt" this
session): shown here as strict xfails with the cause and a proposed fix, not fixed by rev9."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "backtest" / "sample"


@pytest.mark.xfail(
    strict=True,
    reason="bot/backtest/run.py:88 builds a --db database with Store.create_schema (no Alembic "
    "revision), so every review command refuses it as 'holds no hedgebot schema'; proposed fix: "
    "`await bot.store.migrate.upgrade(db_url)` instead of create_schema when db_url is given",
)
def test_a_backtest_kept_with_db_can_be_reported(tmp_path: Path) -> None:
    """README: `--db URL` writes the run's records to a database instead of memory; the point of
    keeping it is to read it again (`hedgebot report --hedge`, `fills`, `funding`)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bt.db'}"
    config = SAMPLE / "example.toml"
    run = CliRunner().invoke(
        main,
        ["backtest", "--data", str(SAMPLE), "--config", str(config), "--from", "2020-03-05",
         "--to", "2020-03-05T06:00", "--db", url, "--format", "json"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    report = CliRunner().invoke(main, ["report"], env={"HEDGEBOT_DATABASE_URL": url})
    assert report.exit_code == 0, report.output
    assert "btc" in report.output and "eth" in report.output
    assert datetime(2020, 3, 5, tzinfo=UTC).strftime("%Y-%m-%d") in report.output
